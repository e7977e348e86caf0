"""OMR ground truth: engraved renders, simulated photos, alignment with verdicts, box transfer, detector."""
