"""Where files live: the local MEDIA_ROOT (the embedded default) or an S3-compatible object store.

LOUPE_STORAGE_URL empty (or ``file:``): every file under MEDIA_ROOT, as on one machine. Otherwise
``s3://[KEY:SECRET@]BUCKET[/PREFIX]?endpoint=https://host:port&region=eu-west-1``: originals, working
copies, tile pyramids, maps, imports and model artifacts are objects of a private bucket (AWS S3, MinIO,
Ceph RGW); credentials come from the URL or boto3's usual sources (AWS_ACCESS_KEY_ID, ...). Each process
then keeps only a bounded local cache (LOUPE_CACHE_DIR, LOUPE_CACHE_BYTES) and its scratch files under
MEDIA_ROOT, which no other process needs to see.
"""
from .env import env_int, env_str

LOUPE_STORAGE_URL = env_str("LOUPE_STORAGE_URL", "")
# The local cache of files read from the object store ("" = MEDIA_ROOT/.cache), and its size bound.
LOUPE_CACHE_DIR = env_str("LOUPE_CACHE_DIR", "")
LOUPE_CACHE_BYTES = env_int("LOUPE_CACHE_BYTES", 2 * 1024 ** 3)
# Parallel requests when a folder (a tile pyramid, a model) goes to or comes from the object store.
LOUPE_STORE_THREADS = env_int("LOUPE_STORE_THREADS", 16)
