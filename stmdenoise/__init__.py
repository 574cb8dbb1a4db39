"""STM Denoise: physics-augmented deep-learning denoising (PDA-Net) for STM images."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stmdenoise")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

from stmdenoise.scan import ProcessingStep, Scan

__all__ = ["Scan", "ProcessingStep", "__version__"]
