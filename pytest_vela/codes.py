"""Result and status codes of ``@system.interconnect``, as the vendor documents them."""

from enum import IntEnum


class ReadyState(IntEnum):
    """``connect.getReadyState`` success status."""

    CONNECTED = 1
    DISCONNECTED = 2


class DiagnosisStatus(IntEnum):
    """``connect.diagnosis`` success status."""

    OK = 0
    CONNECT_TIMEOUT = 204
    OTHERS = 1000
    APP_UNINSTALLED = 1001


class ErrorCode(IntEnum):
    """Fail codes: Vela's general error codes plus the interconnect-specific ones."""

    SYSTEM_ERROR = 200
    USER_REJECTED = 201
    PARAMETER_ERROR = 202
    NOT_SUPPORTED = 203
    TIMEOUT = 204
    DUPLICATE_SUBMISSION = 205
    USER_REJECTED_DONT_ASK = 207
    IO_ERROR = 300
    UNKNOWN = 1000
    APP_NOT_INSTALLED = 1001
    DISCONNECTED = 1006
