"""The moderation room: the marketplace team approves or rejects suppliers' new offers and changes
in the back office (`views.py`, registered by `catalogue.wagtail_hooks`)."""
