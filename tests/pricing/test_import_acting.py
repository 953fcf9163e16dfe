"""A buyer who works for two trusts uploads purchase history for the one they act for, through the
page, the API and the command: a row naming the other trust is an error naming that row and column,
and nothing of the file is imported."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from common.errors import PermissionDenied
from common.imports import UploadedFile
from common.models import ImportJob
from organisations.acting import HEADER
from organisations.models import Role
from pricing.models import PurchaseHistoryLine
from pricing.services import purchase_history_import_start
from tests.organisations.factories import MembershipFactory, TrustFactory, member
from tests.pricing.helpers import csv_bytes, row

pytestmark = pytest.mark.django_db

WRONG_ROW = "names RCB, but this file is uploaded for Leeds Teaching Hospitals (RR8)"


@pytest.fixture
def leeds():
    return TrustFactory(ods_code="RR8", name="Leeds Teaching Hospitals")


@pytest.fixture
def york():
    return TrustFactory(ods_code="RCB", name="York and Scarborough")


@pytest.fixture
def buyer(leeds, york):
    """Beth buys for Leeds and for York."""
    beth = member(Role.BUYER, leeds, email="beth@leeds.example")
    MembershipFactory(user=beth, organisation=york, role=Role.BUYER)
    return beth


def mixed_file() -> bytes:
    """A Leeds line and, on the file's row 3, a York line."""
    return csv_bytes([row(trust_ods="RR8"), row(trust_ods="RCB", line_number="2")])


def lines_by_trust() -> dict[str, int]:
    return {
        ods: PurchaseHistoryLine.objects.filter(trust__ods_code=ods).count()
        for ods in PurchaseHistoryLine.objects.values_list("trust__ods_code", flat=True).distinct()
    }


def web_upload(client, content: bytes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("pricing:upload"), {"file": SimpleUploadedFile("history.csv", content)}
        )
    assert response.status_code == 302, response.content.decode()[:500]
    return ImportJob.objects.latest("id")


def test_on_the_page_a_row_for_the_other_trust_is_an_error_naming_its_row_and_column(
    client, buyer, leeds, york, django_capture_on_commit_callbacks
):
    client.force_login(buyer)
    client.post(reverse("organisations:acting-switch"), {"organisation": leeds.pk})
    page = client.get(reverse("pricing:upload")).content.decode()
    assert "You are uploading for <strong>Leeds Teaching Hospitals</strong> (RR8)" in page

    job = web_upload(client, mixed_file(), django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.REJECTED
    assert job.organisation_id == leeds.pk
    assert job.errors == [{"row": 3, "column": "trust_ods", "message": WRONG_ROW}]
    assert not PurchaseHistoryLine.objects.exists()
    assert WRONG_ROW in client.get(reverse("pricing:import-detail", args=[job.pk])).content.decode()


def test_after_switching_trust_the_page_uploads_for_the_new_one(
    client, buyer, leeds, york, django_capture_on_commit_callbacks
):
    client.force_login(buyer)
    client.post(reverse("organisations:acting-switch"), {"organisation": york.pk})
    assert "(RCB)" in client.get(reverse("pricing:upload")).content.decode()
    job = web_upload(client, csv_bytes([row(trust_ods="RCB")]), django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert job.organisation_id == york.pk
    assert lines_by_trust() == {"RCB": 1}

    # Back to Leeds: York's ODS code is now the wrong one.
    client.post(reverse("organisations:acting-switch"), {"organisation": leeds.pk})
    job = web_upload(client, csv_bytes([row(trust_ods="RCB")]), django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.REJECTED
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "trust_ods")]
    assert lines_by_trust() == {"RCB": 1}


def test_a_buyer_of_one_trust_never_imports_lines_for_another(client, django_capture_on_commit_callbacks):
    leeds = TrustFactory(ods_code="RR8", name="Leeds Teaching Hospitals")
    TrustFactory(ods_code="RCB", name="York and Scarborough")
    client.force_login(member(Role.BUYER, leeds))
    job = web_upload(client, mixed_file(), django_capture_on_commit_callbacks)
    assert job.errors == [{"row": 3, "column": "trust_ods", "message": WRONG_ROW}]
    assert not PurchaseHistoryLine.objects.exists()


def api_post(api, content: bytes, django_capture_on_commit_callbacks, **headers):
    with django_capture_on_commit_callbacks(execute=True):
        return api.post(
            "/api/v1/pricing/imports/",
            {"file": SimpleUploadedFile("history.csv", content)},
            format="multipart",
            headers=headers,
        )


def test_the_api_needs_the_acting_header_from_a_buyer_of_two_trusts(
    buyer, leeds, django_capture_on_commit_callbacks
):
    api = APIClient()
    api.force_authenticate(buyer)
    unchosen = api_post(api, mixed_file(), django_capture_on_commit_callbacks)
    assert unchosen.status_code == 400
    assert HEADER in unchosen.json()["detail"] or HEADER in str(unchosen.json())
    assert not ImportJob.objects.exists()

    response = api_post(api, mixed_file(), django_capture_on_commit_callbacks, **{HEADER: "RR8"})
    assert response.status_code == 202
    body = api.get(response.json()["url"], headers={HEADER: "RR8"}).json()
    assert body["status"] == "rejected"
    assert body["errors"] == [{"row": 3, "column": "trust_ods", "message": WRONG_ROW}]
    assert not PurchaseHistoryLine.objects.exists()

    good = api_post(
        api, csv_bytes([row(trust_ods="RR8")]), django_capture_on_commit_callbacks, **{HEADER: "RR8"}
    )
    assert good.status_code == 202
    assert lines_by_trust() == {"RR8": 1}


def test_the_api_refuses_a_header_naming_a_trust_the_caller_does_not_act_for(
    buyer, django_capture_on_commit_callbacks
):
    TrustFactory(ods_code="RJ1", name="Guy's and St Thomas'")
    api = APIClient()
    api.force_authenticate(buyer)
    refused = api_post(
        api, csv_bytes([row(trust_ods="RJ1")]), django_capture_on_commit_callbacks, **{HEADER: "RJ1"}
    )
    assert refused.status_code == 403
    assert HEADER in str(refused.json())
    assert not ImportJob.objects.exists()


def test_the_command_asks_which_trust_of_several_and_keeps_to_it(buyer, tmp_path, capsys):
    mixed, york_only = tmp_path / "mixed.csv", tmp_path / "york.csv"
    mixed.write_bytes(mixed_file())
    york_only.write_bytes(csv_bytes([row(trust_ods="RCB")]))

    with pytest.raises(
        CommandError, match=r"--trust: beth@leeds.example acts for several trusts \(RR8, RCB\)"
    ):
        call_command("import_purchase_history", str(york_only), user=buyer.email)
    with pytest.raises(CommandError, match="does not act for a trust with the ODS code 'RJ1'"):
        call_command("import_purchase_history", str(york_only), user=buyer.email, trust="RJ1")

    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_purchase_history", str(mixed), user=buyer.email, trust="rr8")
    assert f"row 3, trust_ods: {WRONG_ROW}" in capsys.readouterr().err
    assert not PurchaseHistoryLine.objects.exists()

    call_command("import_purchase_history", str(york_only), user=buyer.email, trust="RCB")
    assert "Imported 1 lines for York and Scarborough" in capsys.readouterr().out
    assert lines_by_trust() == {"RCB": 1}


def test_the_command_uses_the_only_trust_of_a_buyer_of_one(tmp_path, capsys):
    leeds = TrustFactory(ods_code="RR8", name="Leeds Teaching Hospitals")
    buyer = member(Role.BUYER, leeds, email="sam@leeds.example")
    file = tmp_path / "history.csv"
    file.write_bytes(csv_bytes([row(trust_ods="RR8")]))
    call_command("import_purchase_history", str(file), user=buyer.email)
    assert "Imported 1 lines for Leeds Teaching Hospitals" in capsys.readouterr().out


def test_the_service_refuses_a_trust_the_actor_does_not_act_for(buyer):
    stranger = TrustFactory(ods_code="RJ1", name="Guy's and St Thomas'")
    with pytest.raises(PermissionDenied) as refused:
        purchase_history_import_start(
            trust=stranger,
            actor=buyer,
            upload=UploadedFile(name="h.csv", content=io.BytesIO(csv_bytes([row(trust_ods="RJ1")]))),
        )
    assert refused.value.field == "trust"
    assert not ImportJob.objects.exists()


def test_a_job_stored_before_uploads_named_their_trust_is_refused_whole_not_guessed(buyer):
    from common.imports import import_job_start

    job = import_job_start(
        kind="purchase_history",
        upload=UploadedFile(name="h.csv", content=io.BytesIO(mixed_file())),
        organisation_id=None,
        created_by=buyer,
        inline=True,
    )
    assert job.status == ImportJob.Status.REJECTED
    assert job.errors[0]["column"] == "trust_ods" and "names no trust" in job.errors[0]["message"]
    assert not PurchaseHistoryLine.objects.exists()
