"""The online-learning loop: model storage, sizes, batching, triggers, gate, locks and the beat schedule.

Defaults make the demo visibly learn within minutes on a CPU; every value can be set from the environment.
"""
from .env import BASE_DIR, env_bool, env_int, env_str

# Where model artifacts (checkpoint folders) live; with an object store (LOUPE_STORAGE_URL) this machine's
# copies of them, published to and fetched from the store's models/ folder.
LOUPE_MODEL_ROOT = env_str("LOUPE_MODEL_ROOT", str(BASE_DIR / "var" / "models"))
# Model size preset of the ml packages: "" = from the device (gpu on CUDA, cpu otherwise); "tiny" for tests.
LOUPE_MODEL_SIZE = env_str("LOUPE_MODEL_SIZE", "")
# Items per inference batch; 0 = by device (the adapter's default: larger on a GPU).
LOUPE_INFER_BATCH_SIZE = env_int("LOUPE_INFER_BATCH_SIZE", 0)
# Threads decoding working copies for one batch (decoding is the host-side bottleneck on a GPU).
LOUPE_DECODE_THREADS = env_int("LOUPE_DECODE_THREADS", 4)
# Wall-clock budget (seconds) of a first model trained from the generator.
LOUPE_BOOTSTRAP_SECONDS = env_int("LOUPE_BOOTSTRAP_SECONDS", 90)
# Optimiser steps of a fine-tune: exactly this many, for every kind; small enough for minutes on a CPU.
LOUPE_FINETUNE_STEPS = env_int("LOUPE_FINETUNE_STEPS", 40)
# Train a first model from the kind's generator when a scope with items has no champion.
LOUPE_BOOTSTRAP = env_bool("LOUPE_BOOTSTRAP", True)
# A scope without a champion starts from the model shipped with the code (pretrained/<kind>/, see
# workers/pretrained.py) where one serves it at the model size in use; the bootstrap covers the rest.
LOUPE_PRETRAINED = env_bool("LOUPE_PRETRAINED", True)
LOUPE_PRETRAINED_ROOT = env_str("LOUPE_PRETRAINED_ROOT", str(BASE_DIR / "pretrained"))
# Replay: up to this many older accepted items per new correction, balanced across slices.
LOUPE_REPLAY_PER_NEW = env_int("LOUPE_REPLAY_PER_NEW", 2)
# Gate: a candidate whose primary metric falls more than this below the champion's on any golden-set
# slice is not promotable (an absolute difference of scores in [0, 1]).
LOUPE_GATE_MARGIN = float(env_str("LOUPE_GATE_MARGIN", "0.05"))
# Held out to grow the golden set: of the accepted corrections on a slice with fewer golden items than the
# gate needs to decide (webapp.mlops.gate.MIN_ITEMS), one in this many (chosen by a hash of the item, so
# the same item always lands the same way) joins the golden set instead of training; 0 turns it off.
LOUPE_GOLDEN_HOLDOUT_EVERY = env_int("LOUPE_GOLDEN_HOLDOUT_EVERY", 5)
# Single flight per scope: a Redis lock with this expiry, refreshed by the training worker's heartbeat.
# A dead worker's lock runs out, and the sweep then marks its run failed.
LOUPE_TRAIN_LOCK_TTL = env_int("LOUPE_TRAIN_LOCK_TTL", 60)
# A queued run whose task message was lost is sent again after this long.
LOUPE_QUEUED_RUN_RESEND_SECONDS = env_int("LOUPE_QUEUED_RUN_RESEND_SECONDS", 900)
# How often the beat sweep runs (T-minute triggers, dead runs, bootstrap, unpredicted items).
LOUPE_LOOP_SWEEP_SECONDS = env_int("LOUPE_LOOP_SWEEP_SECONDS", 20)
# Task priorities (Redis: 0 is served first): an operator's re-predict before backfill and re-scoring.
LOUPE_PRIORITY_INTERACTIVE = 0
LOUPE_PRIORITY_NEW = 3
LOUPE_PRIORITY_BACKFILL = 6
# Workers write a heartbeat (queues, device) this often; the monitoring page calls a worker silent after
# three missed beats.
LOUPE_WORKER_HEARTBEAT_SECONDS = env_int("LOUPE_WORKER_HEARTBEAT_SECONDS", 15)
