"""Every form in the project renders its widgets with NHS.UK classes, set once in common.forms."""

from __future__ import annotations

from django import forms

from common.forms import NHSForm


class ExampleForm(NHSForm):
    name = forms.CharField(help_text="As on your payslip")
    email = forms.EmailField()
    notes = forms.CharField(widget=forms.Textarea, required=False)
    size = forms.ChoiceField(choices=[("s", "Small"), ("l", "Large")])
    agree = forms.BooleanField(required=False)
    upload = forms.FileField(required=False)
    secret = forms.CharField(widget=forms.HiddenInput, required=False)
    colour = forms.ChoiceField(choices=[("r", "Red"), ("b", "Blue")], widget=forms.RadioSelect)
    sizes = forms.MultipleChoiceField(
        choices=[("s", "Small"), ("l", "Large")], widget=forms.CheckboxSelectMultiple, required=False
    )


def test_widgets_carry_the_nhs_classes():
    form = ExampleForm()
    assert 'class="nhsuk-input"' in str(form["name"])
    assert 'class="nhsuk-input"' in str(form["email"])
    assert 'class="nhsuk-textarea"' in str(form["notes"])
    assert 'class="nhsuk-select"' in str(form["size"])
    assert 'class="nhsuk-checkboxes__input"' in str(form["agree"])
    assert 'class="nhsuk-file-upload"' in str(form["upload"])
    assert "class=" not in str(form["secret"])


def test_a_choice_of_several_is_ticked_in_checkboxes_and_a_choice_of_one_in_radios():
    form = ExampleForm()
    assert 'class="nhsuk-radios__input"' in str(form["colour"])
    assert 'class="nhsuk-checkboxes__input"' in str(form["sizes"])
    assert "nhsuk-radios__input" not in str(form["sizes"])


def test_a_field_with_errors_is_marked_and_described():
    form = ExampleForm(data={"name": "", "email": "not-an-email", "size": "m"})
    assert not form.is_valid()
    name = str(form["name"])
    assert 'class="nhsuk-input nhsuk-input--error"' in name
    assert 'aria-describedby="id_name-hint id_name-error"' in name
    assert 'aria-invalid="true"' in name
    assert "nhsuk-select--error" in str(form["size"])


def test_classes_set_on_a_widget_are_kept():
    class Wide(NHSForm):
        postcode = forms.CharField(widget=forms.TextInput(attrs={"class": "nhsuk-input--width-10"}))

    assert 'class="nhsuk-input--width-10 nhsuk-input"' in str(Wide()["postcode"])
