"""Benchmark: segmentations per second against bare gsm0338 encoding of the same texts."""

import random
import time
from collections.abc import Callable

import gsm0338

from gateway.encoding import segment

SEED = 20240601
TEXTS_PER_CATEGORY = 400
ROUNDS = 5

# Word lists as text, split once: easier to read than list literals of quoted words.
GSM_WORDS_TEXT = (
    "your code is ready order shipped tomorrow delivery between and please reply STOP to opt out "
    "appointment confirmed at the clinic call us on thanks for your purchase total due balance "
    "reminder meeting at pm am Monday Friday café résumé Zürich München Ålesund Øresund"
)
WORDS = GSM_WORDS_TEXT.split()
PUNCTUATION = [".", ",", "!", "?", ":", "-", "(", ")", "'", '"', "@", "&", "%", "#", "+", "=", "/"]
EXTENSION = ["€", "{", "}", "[", "]", "^", "~", "|", "\\"]
EMOJI = ["😀", "👍", "🎉", "❤️", "🚚", "📦", "✅", "🙏", "😂", "🔥"]
UNICODE_WORDS_TEXT = (
    "Привет заказ отправлен завтра доставка спасибо γειά σας παραγγελία ευχαριστώ "
    "ça coûte naïve façade Łódź Kraków Škoda żółw 你好 謝謝 こんにちは"
)
UNICODE_WORDS = UNICODE_WORDS_TEXT.split()


def gsm_text(rng: random.Random, low: int, high: int, extension_chars: int) -> str:
    """Words, digits and punctuation from the GSM alphabet, with a few extension characters."""
    target = rng.randint(low, high)
    pieces: list[str] = []
    size = 0
    while size < target:
        piece = rng.choice(WORDS) if rng.random() < 0.8 else str(rng.randint(0, 99999))
        if rng.random() < 0.15:
            piece += rng.choice(PUNCTUATION)
        pieces.append(piece)
        size += len(piece) + 1
    text = " ".join(pieces)[:target]
    chars = list(text)
    for _ in range(extension_chars):
        chars.insert(rng.randrange(len(chars) + 1), rng.choice(EXTENSION))
    return "".join(chars)


def unicode_text(rng: random.Random, low: int, high: int, emoji: int) -> str:
    """Non-GSM words mixed with GSM ones, with a few emoji."""
    target = rng.randint(low, high)
    pieces: list[str] = []
    size = 0
    while size < target:
        piece = rng.choice(UNICODE_WORDS) if rng.random() < 0.6 else rng.choice(WORDS)
        pieces.append(piece)
        size += len(piece) + 1
    chars = list(" ".join(pieces)[:target])
    for _ in range(emoji):
        chars.insert(rng.randrange(len(chars) + 1), rng.choice(EMOJI))
    return "".join(chars)


def categories(rng: random.Random) -> list[tuple[str, str, list[str]]]:
    """Each category of the mix: its name, the encoding its texts must get, and its texts."""
    count = TEXTS_PER_CATEGORY
    return [
        ("short GSM (40-100)", "GSM", [gsm_text(rng, 40, 100, 0) for _ in range(count)]),
        (
            "long GSM (300-600, extension chars)",
            "GSM",
            [gsm_text(rng, 300, 600, rng.randint(1, 4)) for _ in range(count)],
        ),
        (
            "short UNICODE (emoji)",
            "UNICODE",
            [unicode_text(rng, 20, 70, rng.randint(1, 3)) for _ in range(count)],
        ),
        (
            "long UNICODE (200-400, emoji)",
            "UNICODE",
            [unicode_text(rng, 200, 400, rng.randint(1, 6)) for _ in range(count)],
        ),
    ]


def best_rate(texts: list[str], work: Callable[[str], object]) -> float:
    """Texts per second of the fastest of ROUNDS passes over ``texts``."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for text in texts:
            work(text)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def codec_encode(text: str) -> bytes:
    """The baseline: only encode with the gsm0338 codec (UNICODE texts get ``?`` replacements)."""
    encoded: bytes = text.encode(gsm0338.Codec.NAME, errors="replace")
    return encoded


def main() -> None:
    rng = random.Random(SEED)
    rows: list[tuple[str, list[str]]] = []
    for name, encoding, texts in categories(rng):
        # Timing the wrong path would be meaningless: every text must take its category's.
        assert all(segment(text).encoding == encoding for text in texts), name
        rows.append((name, texts))
    mix = [text for _, texts in rows for text in texts]
    rng.shuffle(mix)
    rows.append(("whole mix", mix))

    print("| category | texts | engine texts/s | codec texts/s | engine/codec |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, texts in rows:
        engine = best_rate(texts, segment)
        codec = best_rate(texts, codec_encode)
        print(f"| {name} | {len(texts)} | {engine:,.0f} | {codec:,.0f} | {engine / codec:.1f} |")


if __name__ == "__main__":
    main()
