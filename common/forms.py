"""NHS.UK frontend classes on every form widget, set once for the whole project.

Forms inherit `NHSFormMixin` (or use `NHSForm` / `NHSModelForm`); their fields then render with the
NHS.UK classes (`nhsuk-input`, `nhsuk-select`, ...), the error modifier when the field has errors, and
`aria-describedby` pointing at the hint and error message that `includes/field.html` renders.
"""

from __future__ import annotations

from django import forms
from django.forms.widgets import Input

# Widget class -> (NHS.UK class, error modifier). The first entry the widget is an instance of wins,
# so a subclass comes before its base (CheckboxSelectMultiple is a RadioSelect in Django).
_WIDGET_CLASSES: list[tuple[type[forms.Widget], str, str]] = [
    (forms.CheckboxInput, "nhsuk-checkboxes__input", ""),
    (forms.CheckboxSelectMultiple, "nhsuk-checkboxes__input", ""),
    (forms.RadioSelect, "nhsuk-radios__input", ""),
    (forms.Textarea, "nhsuk-textarea", "nhsuk-textarea--error"),
    (forms.Select, "nhsuk-select", "nhsuk-select--error"),
    (forms.ClearableFileInput, "nhsuk-file-upload", ""),
    (forms.FileInput, "nhsuk-file-upload", ""),
    (Input, "nhsuk-input", "nhsuk-input--error"),
]


def nhs_classes_for(widget: forms.Widget) -> tuple[str, str]:
    """The NHS.UK class and error modifier for a widget ('' for widgets with no NHS.UK style)."""
    if widget.is_hidden:
        return "", ""
    for widget_class, css, error_css in _WIDGET_CLASSES:
        if isinstance(widget, widget_class):
            return css, error_css
    return "", ""


class NHSBoundField(forms.BoundField):
    """A bound field whose widget carries the NHS.UK classes and the hint/error ids of field.html."""

    def build_widget_attrs(self, attrs, widget=None):
        widget = widget or self.field.widget
        attrs = super().build_widget_attrs(attrs, widget)
        css, error_css = nhs_classes_for(widget)
        classes = [c for c in (widget.attrs.get("class", ""), attrs.get("class", ""), css) if c]
        if self.errors and error_css:
            classes.append(error_css)
        if classes:
            attrs["class"] = " ".join(dict.fromkeys(" ".join(classes).split()))
        return attrs

    @property
    def aria_describedby(self) -> str | None:
        if self.field.widget.attrs.get("aria-describedby"):
            return None
        ids = []
        if self.auto_id and not self.is_hidden:
            if self.help_text:
                ids.append(f"{self.id_for_label}-hint")
            if self.errors:
                ids.append(f"{self.id_for_label}-error")
        return " ".join(ids)


class NHSFormMixin:
    """Mix into any Form or ModelForm to render its fields in NHS.UK styles."""

    bound_field_class = NHSBoundField


class NHSForm(NHSFormMixin, forms.Form):
    pass


class NHSModelForm(NHSFormMixin, forms.ModelForm):
    pass
