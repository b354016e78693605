"""Text to speech for say and text play content: a provider interface and espeak-ng, the default local engine.

A provider turns Infobip's say parameters into the engine's PCM (48 kHz mono int16). It blocks: the caller runs it
with `asyncio.to_thread`. Request errors (`SpeechRequestError`: unknown or unspoken language, empty or too long
text, speech rate out of range) become a 4xx; engine failures (`SpeechEngineError`) an ERROR event.

espeak-ng runs as a subprocess, text on stdin (never on the command line), WAV on stdout, with a timeout. Infobip's
languages map to the espeak-ng voice closest to them (a regional variety espeak-ng lacks falls back to the
language); the map is checked against the voices this espeak-ng has, listed once per provider. Voice preferences:
a `voiceName` that names an espeak-ng variant is used; other names (Infobip's are cloud voices) fall back to the
gender, which picks the variant `+f3` or `+m3`.
"""

from __future__ import annotations

import io
import subprocess
import threading
import wave
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from switchboard_media.actions.audio import resample
from switchboard_media.actions.errors import InvalidSpeechRequest, SpeechEngineError, UnsupportedLanguage

MIN_SPEECH_RATE, MAX_SPEECH_RATE = 0.5, 2.0
WORDS_PER_MINUTE = 175  # espeak-ng's own default: speechRate 1
MIN_WPM, MAX_WPM = 80, 450  # what espeak-ng accepts
GENDER_VARIANTS = {"FEMALE": "f3", "MALE": "m3"}

# Infobip's say languages (reference Appendix A; `epo` is the Python client's) → espeak-ng voices, best first.
LANGUAGES: dict[str, tuple[str, ...]] = {
    "ar": ("ar",), "ar-ma": ("ar",), "ar-xa": ("ar",), "bg": ("bg",), "bn": ("bn",), "bn-in": ("bn",),
    "ca": ("ca",), "cmn-cn": ("cmn",), "cs": ("cs",), "da": ("da",), "de": ("de",), "de-at": ("de",),
    "de-ch": ("de",), "el": ("el",), "en": ("en-us",), "en-au": ("en-gb",), "en-ca": ("en-us",),
    "en-gb": ("en-gb",), "en-gb-wls": ("en-gb",), "en-ie": ("en-gb",), "en-in": ("en-gb",), "en-ph": ("en-us",),
    "es": ("es",), "es-419": ("es-419",), "es-ar": ("es-419",), "es-co": ("es-419",), "es-mx": ("es-419",),
    "es-us": ("es-419",), "et-ee": ("et",), "fi": ("fi",), "fr": ("fr-fr",), "fr-ca": ("fr-fr",),
    "fr-ch": ("fr-ch", "fr-fr"), "gu": ("gu",), "he": ("he",), "hi": ("hi",), "hr": ("hr",), "hu": ("hu",),
    "id": ("id",), "is": ("is",), "it": ("it",), "ja": ("ja",), "kk-kz": ("kk",), "kn": ("kn",), "ko": ("ko",),
    "lt": ("lt",), "lv": ("lv",), "ml": ("ml",), "mr-in": ("mr",), "ms": ("ms",), "nb-no": ("nb",), "nl": ("nl",),
    "nl-be": ("nl",), "no": ("nb",), "pa-in": ("pa",), "pl": ("pl",), "pt-br": ("pt-br",), "pt-pt": ("pt",),
    "ro": ("ro",), "ru": ("ru",), "sk": ("sk",), "sl": ("sl",), "sr-rs": ("sr",), "sv": ("sv",), "sw-ke": ("sw",),
    "sw-tz": ("sw",), "ta": ("ta",), "te": ("te",), "th": ("th",), "tr": ("tr",), "uk": ("uk",), "ur-in": ("ur",),
    "ur-pk": ("ur",), "uz-uz": ("uz",), "vi": ("vi",), "wls": ("cy",), "yue-hk": ("yue",), "zh-cn": ("cmn",),
    "zh-tw": ("cmn",), "epo": ("eo",),
    "fil-ph": (),  # no Filipino voice in espeak-ng
}  # fmt: skip


class SpeechProvider(Protocol):
    def synthesize(
        self,
        text: str,
        language: str,
        speech_rate: float = 1.0,
        voice_gender: str | None = None,
        voice_name: str | None = None,
    ) -> np.ndarray:
        """`text` spoken in `language` (Infobip's code) as 48 kHz mono int16 PCM. Blocks."""
        ...


@dataclass(frozen=True)
class EspeakVoices:
    languages: frozenset[str]  # what `-v` accepts
    variants: dict[str, str]  # lower-case variant name or file id → file id (`+id`)


def words_per_minute(speech_rate: float) -> int:
    if not MIN_SPEECH_RATE <= speech_rate <= MAX_SPEECH_RATE:
        raise InvalidSpeechRequest(f"speechRate must be within [{MIN_SPEECH_RATE}, {MAX_SPEECH_RATE}]")
    return max(MIN_WPM, min(MAX_WPM, round(WORDS_PER_MINUTE * speech_rate)))


def parse_voices(listing: str) -> list[tuple[str, str, str]]:
    """`espeak-ng --voices[=variant]` → (language, name, file) per voice. A file name with a space (it would spill
    into the next column) is skipped; so are MBROLA voices, which need MBROLA's own data."""
    voices = []
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 5 or fields[4].startswith("mb/") or any(not f.startswith("(") for f in fields[5:6]):
            continue
        voices.append((fields[1], fields[3], fields[4]))
    return voices


class EspeakProvider:
    def __init__(self, executable: str = "espeak-ng", *, timeout: float = 10.0, max_text_length: int = 2000) -> None:
        self.executable = executable
        self.timeout = timeout
        self.max_text_length = max_text_length
        self._voices: EspeakVoices | None = None
        self._lock = threading.Lock()

    def voices(self) -> EspeakVoices:
        """The installed voices, listed on first use."""
        with self._lock:
            if self._voices is None:
                languages = frozenset(language for language, _, _ in parse_voices(self._listing("--voices")))
                variants: dict[str, str] = {}
                for _, name, file in parse_voices(self._listing("--voices=variant")):
                    variant = file.removeprefix("!v/")
                    variants.setdefault(variant.lower(), variant)
                    variants.setdefault(name.lower(), variant)
                self._voices = EspeakVoices(languages, variants)
            return self._voices

    def voice(self, language: str, voice_gender: str | None = None, voice_name: str | None = None) -> str:
        """The `-v` argument for Infobip's language and voice preferences."""
        code = language.strip().lower().replace("_", "-")
        if code not in LANGUAGES:
            raise UnsupportedLanguage(language, "not a language of Infobip's say request")
        installed = self.voices()
        base = next((voice for voice in LANGUAGES[code] if voice in installed.languages), None)
        if base is None:
            raise UnsupportedLanguage(language, "no installed espeak-ng voice speaks it")
        variant = installed.variants.get((voice_name or "").lower()) or installed.variants.get(
            GENDER_VARIANTS.get((voice_gender or "").upper(), "")
        )
        return f"{base}+{variant}" if variant else base

    def synthesize(
        self,
        text: str,
        language: str,
        speech_rate: float = 1.0,
        voice_gender: str | None = None,
        voice_name: str | None = None,
    ) -> np.ndarray:
        if not text.strip():
            raise InvalidSpeechRequest("the text is empty")
        if len(text) > self.max_text_length:
            raise InvalidSpeechRequest(f"the text is longer than {self.max_text_length} characters")
        rate = words_per_minute(speech_rate)
        arguments = ["--stdout", "--stdin", "-v", self.voice(language, voice_gender, voice_name), "-s", str(rate)]
        if text.lstrip().startswith("<speak"):
            arguments.append("-m")  # SSML, which Infobip's say accepts
        wav = self._run(arguments, text)
        try:
            with wave.open(io.BytesIO(wav)) as reader:
                if reader.getnchannels() != 1 or reader.getsampwidth() != 2:
                    raise SpeechEngineError("espeak-ng wrote audio that is not 16-bit mono")
                sample_rate = reader.getframerate()
                pcm = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
        except (wave.Error, EOFError) as error:
            raise SpeechEngineError(f"espeak-ng wrote no WAV: {error}") from error
        return resample(pcm.astype(np.int16), sample_rate)

    def _listing(self, argument: str) -> str:
        return self._run([argument]).decode("utf-8", "replace")

    def _run(self, arguments: list[str], text: str | None = None) -> bytes:
        try:
            result = subprocess.run(  # noqa: S603 (a fixed executable; the text goes to stdin)
                [self.executable, *arguments],
                input=text.encode("utf-8") if text is not None else None,
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except FileNotFoundError as error:
            raise SpeechEngineError(f"{self.executable} is not installed") from error
        except subprocess.TimeoutExpired as error:
            raise SpeechEngineError(f"{self.executable} took longer than {self.timeout:g} s") from error
        if result.returncode != 0:
            detail = result.stderr.decode("utf-8", "replace").strip()[:200]
            raise SpeechEngineError(f"{self.executable} failed ({result.returncode}): {detail}")
        return result.stdout
