"""New-project skeletons: `create_project_skeleton(dest, app_name)` renders one into a new dir."""

from __future__ import annotations

from lambic.templates.skeleton import ProjectExistsError, SkeletonError, create_project_skeleton

__all__ = ["ProjectExistsError", "SkeletonError", "create_project_skeleton"]
