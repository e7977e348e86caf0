"""Visual quality control of transparent balloon catheters: synthetic data, a from-scratch defect CNN
(image verdict + per-type scores + per-pixel defect map), guided-backprop saliency and an entropy-based
adversarial / out-of-distribution flag. Pure ML: never imports Django, Celery, webapp or workers."""

from formats.catheter import DEFECT_TYPES  # noqa: F401  (the one taxonomy, shared with the web app)

SETUPS = ("high_reflections", "low_visibility", "strong_artifacts", "good")
