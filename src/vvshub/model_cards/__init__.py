"""Model cards of the zoo, rendered with huggingface_hub's card classes.

Example:
    >>> from vvshub.model_cards import render_card
    >>> card = render_card({"architecture": "resnet18", "num_classes": 10, "vvshub": {}},
    ...                    repo_id="vvshub/resnet18_d10_cifar10")
    >>> "brain-alignment" in card.data.tags
    True
"""

from vvshub.model_cards._card import CITATION, REGIONS, CardScore, render_card

__all__ = ["CITATION", "REGIONS", "CardScore", "render_card"]
