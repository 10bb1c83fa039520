from enum import StrEnum


class ReadinessState(StrEnum):
    DEGRADED = "degraded"
    DRAINING = "draining"
    OK = "ok"
    UNAVAILABLE = "unavailable"

    def __str__(self) -> str:
        return str(self.value)
