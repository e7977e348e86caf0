"""Each kind's data format, written once: taxonomy, annotation schema and validator, and the readers and
writers of the field's exchange formats (COCO, PAGE XML 2019, DeepScoresV2 JSON, verdict CSV, alignments
JSON).

Pure Python (numpy only to decode run-length masks): no Django, no torch, no cv2. Both ``webapp``
(validation, exports, import) and ``ml`` (training data, predictions written out) import it, so the
two sides cannot drift apart.
"""
