"""Thin tuners over one shared fidelity-aware base."""

from __future__ import annotations

from kt_ext.tuners._base import FidelityTuner

__all__ = ["FidelityTuner"]
