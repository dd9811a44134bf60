"""Recipes: cleaning and feature steps, versioned, compiled into one scikit-learn transformer.

``RecipeService`` stores and applies them; ``steps`` is the catalog of step kinds;
``runtime`` (self-contained) is what saved models import; ``codegen`` writes readable pandas.
"""

from app.core.recipes.service import (
    Preview,
    Recipe,
    RecipeService,
    RecipeVersion,
    Usage,
    parse_ref,
    preview_steps,
)

__all__ = [
    "Preview",
    "Recipe",
    "RecipeService",
    "RecipeVersion",
    "Usage",
    "parse_ref",
    "preview_steps",
]
