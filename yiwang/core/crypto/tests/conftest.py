import base64

import pytest


def key_entry(key_id: str, seed: int) -> str:
    return f"{key_id}:" + base64.b64encode(bytes((seed + i) % 256 for i in range(32))).decode()


K1 = key_entry("k1", 1)
K2 = key_entry("k2", 101)
K3 = key_entry("k3", 201)
M1 = key_entry("m1", 51)
M2 = key_entry("m2", 151)


@pytest.fixture(autouse=True)
def data_keys(settings):
    """Known keys and the default cipher for every test; tests change them with `settings`."""
    settings.YIWANG_DATA_KEYS = K1
    settings.YIWANG_DATA_CIPHER = "aes-256-gcm"
    settings.YIWANG_INDEX_KEY = ""
    settings.YIWANG_KEY_MASTER = M1
    settings.YIWANG_KEY_VAULT = "software"
    return settings
