"""Product settings: upload limits, lease TTL, queue audit share, working copy size."""
from .env import env_int, env_str

LOUPE_MAX_UPLOAD_BYTES = env_int("LOUPE_MAX_UPLOAD_BYTES", 512 * 1024 * 1024)
# An annotation file (COCO JSON, PAGE XML) uploaded beside the images is parsed in memory: bound it.
LOUPE_MAX_ANNOTATION_BYTES = env_int("LOUPE_MAX_ANNOTATION_BYTES", 256 * 1024 * 1024)
LOUPE_MAX_IMAGE_PIXELS = env_int("LOUPE_MAX_IMAGE_PIXELS", 160_000_000)  # a 600 dpi broadsheet is ~70 Mpx
# A zip upload: at most this many files, unpacking to at most this many bytes in all (zip bombs).
LOUPE_MAX_ZIP_MEMBERS = env_int("LOUPE_MAX_ZIP_MEMBERS", 10_000)
LOUPE_MAX_ZIP_EXPANDED_BYTES = env_int("LOUPE_MAX_ZIP_EXPANDED_BYTES", 8 * 1024 * 1024 * 1024)
LOUPE_WORKING_COPY_LONG_SIDE = env_int("LOUPE_WORKING_COPY_LONG_SIDE", 1600)
LOUPE_LEASE_TTL_SECONDS = env_int("LOUPE_LEASE_TTL_SECONDS", 300)
# A skipped item is not offered to the operator who skipped it for this long (others get it at once).
LOUPE_SKIP_COOLDOWN_SECONDS = env_int("LOUPE_SKIP_COOLDOWN_SECONDS", 1800)
LOUPE_DEFAULT_AUDIT_SHARE = 0.10

DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 1000
# A whole multipart request (several files, each at most LOUPE_MAX_UPLOAD_BYTES) is refused above this (413).
LOUPE_MAX_REQUEST_BYTES = env_int("LOUPE_MAX_REQUEST_BYTES", 2 * 1024 * 1024 * 1024)
# Every API request body: JSON nested deeper than this is refused before parsing (400).
LOUPE_MAX_JSON_DEPTH = env_int("LOUPE_MAX_JSON_DEPTH", 64)
# Sign-in (page and API token): after this many failures in the window, further attempts answer 429.
LOUPE_LOGIN_FAILURES_PER_USER = env_int("LOUPE_LOGIN_FAILURES_PER_USER", 10)
LOUPE_LOGIN_FAILURES_PER_IP = env_int("LOUPE_LOGIN_FAILURES_PER_IP", 100)
LOUPE_LOGIN_WINDOW_SECONDS = env_int("LOUPE_LOGIN_WINDOW_SECONDS", 300)
# Per-user request rates of costly endpoints ("N/second|minute|hour|day"); over it the answer is 429.
LOUPE_THROTTLE_RATES = {
    "uploads": env_str("LOUPE_UPLOAD_RATE", "120/minute"),
    "repredict": env_str("LOUPE_REPREDICT_RATE", "30/minute"),
    "omr_recompute": env_str("LOUPE_OMR_RECOMPUTE_RATE", "60/minute"),
}
# Work budget of uploads: decoded pixels of new images per user and hour (tiling costs grow with pixels,
# not with file size: a 151 KB PNG can declare 156 Mpx).
LOUPE_UPLOAD_PIXELS_PER_HOUR = env_int("LOUPE_UPLOAD_PIXELS_PER_HOUR", 10_000_000_000)
# An operator's re-predict request stays pending (further ones are not queued again) for at most this long.
LOUPE_REPREDICT_PENDING_SECONDS = env_int("LOUPE_REPREDICT_PENDING_SECONDS", 300)
# A zip upload with more members or more unpacked bytes than this is expanded by a worker (202 + an import).
LOUPE_ZIP_INLINE_MEMBERS = env_int("LOUPE_ZIP_INLINE_MEMBERS", 50)
LOUPE_ZIP_INLINE_BYTES = env_int("LOUPE_ZIP_INLINE_BYTES", 64 * 1024 * 1024)
