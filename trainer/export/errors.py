class ExportError(Exception):
    """A conversion, quantization or verification failure, stated in one line for the user."""


class VerificationFailed(ExportError):
    """The GGUF was built but does not match the HF model; nothing was written."""

    def __init__(self, report):
        super().__init__(f"verification failed for {report.gguf}: {report.failures[0]}")
        self.report = report
