"""Names of the training variants (the paper's ablations), torch-free so that the CLI can list them.

:mod:`stmdenoise.model.pdanet` builds the networks of each; importing this module costs nothing,
so ``stmdenoise info`` and every other command that does not train start without torch.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["VARIANTS", "Variant"]

Variant = Literal["cyclegan", "cyclegan+da", "cyclegan+da+ws", "pdanet", "supervised", "paired"]
#: Every variant ``stmdenoise train --variant`` accepts.
VARIANTS: tuple[str, ...] = get_args(Variant)
