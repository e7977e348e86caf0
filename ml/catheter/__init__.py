"""Visual quality control of transparent balloon catheters: synthetic data, a from-scratch defect CNN
(image verdict + per-type scores + per-pixel defect map), guided-backprop saliency and an entropy-based
adversarial / out-of-distribution flag. Pure ML: never imports Django, Celery, webapp or workers."""

DEFECT_TYPES = ("axial_scratch", "radial_scratch", "inclusion", "bubble")
SETUPS = ("high_reflections", "low_visibility", "strong_artifacts", "good")
