"""PDA-Net networks (layers -> blocks -> nets) and model folders.

Public API: :class:`Generator`, :class:`PatchDiscriminator`, :class:`FeatureDiscriminator`,
:class:`PDANet`, :class:`ArchConfig`, :func:`unique_parameters`, :func:`receptive_field`,
and the model-folder functions of :mod:`stmdenoise.model.folder`.
"""

from stmdenoise.model.blocks import DownBlock, ResnetBlock, ResnetStack, UpBlock
from stmdenoise.model.device import select_device
from stmdenoise.model.discriminators import FeatureDiscriminator, PatchDiscriminator
from stmdenoise.model.folder import (
    ModelFolderError,
    ModelInfo,
    NormalizationSpec,
    load_model_folder,
    read_model_info,
    save_model_folder,
)
from stmdenoise.model.generator import STRIDE, Generator, receptive_field
from stmdenoise.model.layers import InstanceNorm
from stmdenoise.model.pdanet import VARIANTS, ArchConfig, PDANet, Variant, build_generators, unique_parameters

__all__ = [
    "ArchConfig",
    "DownBlock",
    "FeatureDiscriminator",
    "Generator",
    "InstanceNorm",
    "ModelFolderError",
    "ModelInfo",
    "NormalizationSpec",
    "PDANet",
    "PatchDiscriminator",
    "ResnetBlock",
    "ResnetStack",
    "STRIDE",
    "UpBlock",
    "VARIANTS",
    "Variant",
    "build_generators",
    "load_model_folder",
    "read_model_info",
    "save_model_folder",
    "select_device",
    "receptive_field",
    "unique_parameters",
]
