"""CMS pages (Wagtail): the home page and content pages, edited at /cms/."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.images.blocks import ImageBlock
from wagtail.models import Page
from wagtail.search import index


class CallToActionBlock(blocks.StructBlock):
    """An NHS.UK action link to a page of this site or to an address."""

    text = blocks.CharBlock(max_length=80)
    page = blocks.PageChooserBlock(required=False)
    url = blocks.CharBlock(
        required=False, max_length=300, help_text="Instead of a page: an address such as /catalogue/."
    )

    class Meta:
        icon = "link"
        template = "marketplace/blocks/call_to_action.html"

    def clean(self, value):
        value = super().clean(value)
        if bool(value.get("page")) == bool(value.get("url")):
            raise blocks.StructBlockValidationError(
                block_errors={"url": ValidationError("Choose a page or enter an address, not both.")}
            )
        return value


class BodyBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(
        max_length=120, form_classname="title", template="marketplace/blocks/heading.html"
    )
    paragraph = blocks.RichTextBlock(features=["bold", "italic", "link", "ol", "ul", "h3", "h4"])
    image = ImageBlock(template="marketplace/blocks/image.html")
    call_to_action = CallToActionBlock()


class HomePage(Page):
    """The site's front page: a hero and a free body. One per site."""

    hero_heading = models.CharField(max_length=120, default="Buy health and care supplies in one place")
    hero_text = models.TextField(
        blank=True,
        default="One catalogue of suppliers' offers for NHS trusts, with prices you can compare "
        "and demand you can pool.",
    )
    body = StreamField(BodyBlock(), blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("hero_heading"),
        FieldPanel("hero_text"),
        FieldPanel("body"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("hero_text"), index.SearchField("body")]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["marketplace.ContentPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = "home page"


class ContentPage(Page):
    """Guidance and information pages: headings, text, images and calls to action."""

    summary = models.TextField(blank=True, help_text="One or two sentences under the title.")
    body = StreamField(BodyBlock(), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("summary"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("summary"), index.SearchField("body")]

    parent_page_types = ["marketplace.HomePage", "marketplace.ContentPage"]
    subpage_types = ["marketplace.ContentPage"]

    class Meta:
        verbose_name = "content page"
