"""Product settings: upload limits, lease TTL, queue audit share, working copy size."""
from .env import env_int

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
