"""The SMS segmentation engine: encoding choice, part splitting and GSM transliteration."""

from gateway.encoding.gsm import GSM_BASIC_CHARSET, GSM_EXTENDED_CHARSET
from gateway.encoding.segmentation import Segmentation, has_lone_surrogate, segment
from gateway.encoding.transliteration import GSM_TRANSLITERATION

__all__ = [
    "GSM_BASIC_CHARSET",
    "GSM_EXTENDED_CHARSET",
    "GSM_TRANSLITERATION",
    "Segmentation",
    "has_lone_surrogate",
    "segment",
]
