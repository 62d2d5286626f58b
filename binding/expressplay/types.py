"""Values the ExpressPlay client takes and returns. All frozen; none holds the customerAuthenticator."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Drm(enum.StrEnum):
    PLAYREADY = "pr"
    WIDEVINE = "wv"
    FAIRPLAY = "fp"


class Environment(enum.StrEnum):
    SANDBOX = "sandbox"
    TEST = "test"
    PRODUCTION = "production"


@dataclass(frozen=True)
class Endpoints:
    """The URL of every ExpressPlay API Bindery calls, for one environment."""

    playready_token: str
    widevine_token: str
    fairplay_token: str
    getrecord: str

    @classmethod
    def for_environment(
        cls,
        environment: Environment | str,
        *,
        sandbox_url: str = "",
        production_domain: str = "service.expressplay.com",
    ) -> Endpoints:
        """Return the hosts of `environment` (research/expressplay-api.md, section 1)."""
        environment = Environment(environment)
        if environment is Environment.SANDBOX:
            base = sandbox_url.rstrip("/")
            return cls(
                playready_token=f"{base}/hms/pr/token",
                widevine_token=f"{base}/hms/wv/token",
                fairplay_token=f"{base}/hms/fp/token",
                getrecord=f"{base}/cmiapi/getrecord/",
            )
        domain = "test.expressplay.com" if environment is Environment.TEST else production_domain
        return cls(
            playready_token=f"https://pr-gen.{domain}/hms/pr/token",
            widevine_token=f"https://wv-gen.{domain}/hms/wv/token",
            fairplay_token=f"https://fp-gen.{domain}/hms/fp/token",
            getrecord=f"https://api.{domain}/cmiapi/getrecord/",
        )

    def token_url(self, drm: Drm) -> str:
        return {
            Drm.PLAYREADY: self.playready_token,
            Drm.WIDEVINE: self.widevine_token,
            Drm.FAIRPLAY: self.fairplay_token,
        }[Drm(drm)]


@dataclass(frozen=True)
class ContentKey:
    """A content encryption key (CEK) and its key id, both 32 hex characters. The key never shows in repr."""

    kid: str
    key: str = field(repr=False)


@dataclass(frozen=True)
class BuyToOwn:
    """Play for as long as the token and licence allow."""

    rights_type = "BuyToOwn"


@dataclass(frozen=True)
class Rental:
    """No playback after `period_end`; `play_duration` seconds of viewing once playback starts."""

    period_end: datetime
    play_duration: int | None = None
    rights_type = "Rental"


Policy = BuyToOwn | Rental


@dataclass(frozen=True)
class PlayReadyOutputProtection:
    """PlayReady output protection levels (0-999), all required by ExpressPlay. Defaults: the usual minimums."""

    analog_video: int = 100
    compressed_digital_audio: int = 100
    compressed_digital_video: int = 500
    uncompressed_digital_audio: int = 100
    uncompressed_digital_video: int = 100

    def as_params(self) -> dict[str, int]:
        return {
            "analogVideoOPL": self.analog_video,
            "compressedDigitalAudioOPL": self.compressed_digital_audio,
            "compressedDigitalVideoOPL": self.compressed_digital_video,
            "uncompressedDigitalAudioOPL": self.uncompressed_digital_audio,
            "uncompressedDigitalVideoOPL": self.uncompressed_digital_video,
        }


@dataclass(frozen=True)
class LicenseToken:
    """An issued token and the licence URL a player sends its licence request to (token included)."""

    drm: Drm
    license_url: str = field(repr=False)
    token: str = field(repr=False)

    @property
    def short(self) -> str:
        """Return an abbreviation of the token, fit for logs and admin pages."""
        return f"{self.token[:8]}…{self.token[-6:]}" if len(self.token) > 20 else self.token

    def __repr__(self) -> str:
        return f"LicenseToken(drm={self.drm.value!r}, token={self.short!r})"


@dataclass(frozen=True)
class Record:
    """One event of ExpressPlay's transaction log, as returned by getrecord."""

    event_id: int | None
    time: datetime | None
    cookie: str
    device_id: str
    drm: str = ""
    kid: str = ""
    result_code: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class LicenceAnswer:
    """A licence server's answer to a licence request, as it came: status, body and its Content-Type."""

    status: int
    body: bytes = field(repr=False)
    content_type: str = "application/octet-stream"
