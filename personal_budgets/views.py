"""Personal budgets' pages: the patient's (their budget, shop, checkout, orders, statement, carers),
the care coordinator's queue and decisions, and the commissioner's budgets, allocations and report.

The patient pages are for the patient the request acts for (`organisations.acting`: the patient
themselves, or the one a carer or coordinator chose); another patient's order is a 404. Copy on the
patient pages is plain English for a reading age of about 9 (tests/personal_budgets/test_pages.py
measures it).
"""

from __future__ import annotations

import csv
import io
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from common.errors import DomainError, NotFound, PermissionDenied
from common.pdf import render_pdf
from organisations import services as org_services
from organisations.acting import acting_for
from organisations.models import CarerLink, OrganisationKind, PatientProfile, Role, User
from personal_budgets import selectors, services
from personal_budgets.charts import bar_chart
from personal_budgets.forms import (
    AllocateForm,
    AllocateKind,
    AllocationCancelForm,
    BudgetChangeForm,
    BudgetForm,
    BuyForm,
    CarerForm,
    DecisionForm,
    PlanForm,
    ReturnForm,
    add_domain_error,
    plan_initial,
)
from personal_budgets.models import AllocationKind, BudgetKind
from purchasing.returns import selectors as return_selectors
from purchasing.returns import services as return_services
from purchasing.types import PatientDelivery, PatientLine


def page_view(view):
    """Signed in; a NotFound from a selector or service is a 404 and a refusal a 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from None
        except PermissionDenied as error:
            raise Forbidden(error.message) from None

    return wrapped


# --- The patient's pages --------------------------------------------------------------------


def _patient(request: HttpRequest) -> PatientProfile | None:
    return acting_for(request).patient


def _no_patient(request: HttpRequest) -> HttpResponse:
    return render(request, "personal_budgets/no_patient.html", status=200)


def _patient_summary(request: HttpRequest):
    """(patient, summary) for the patient pages; summary None when they have no budget today."""
    patient = _patient(request)
    if patient is None:
        return None, None
    budget = selectors.current_budget(patient=patient)
    return patient, (selectors.budget_summary(budget=budget) if budget is not None else None)


@page_view
def home(request: HttpRequest) -> HttpResponse:
    patient, summary = _patient_summary(request)
    if patient is None:
        return _no_patient(request)
    waiting = selectors.plan_waiting(budget=summary.budget) if summary else None
    period_spent = None
    if summary is not None and summary.plan is not None and summary.plan.period_cap is not None:
        period_spent = selectors.cap_period_spent(budget=summary.budget, plan=summary.plan)
    return render(
        request,
        "personal_budgets/home.html",
        {"patient": patient, "summary": summary, "plan_waiting": waiting, "period_spent": period_spent},
    )


@page_view
@require_http_methods(["POST"])
def plan_agree(request: HttpRequest) -> HttpResponse:
    patient, summary = _patient_summary(request)
    if patient is None or summary is None:
        raise Http404("No budget.")
    waiting = selectors.plan_waiting(budget=summary.budget)
    if waiting is None:
        raise Http404("No plan waiting.")
    try:
        services.plan_agree(plan=waiting, actor=request.user)
        messages.success(request, "Thank you. Your new plan is in use now.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("personal_budgets:home")


@page_view
def shop(request: HttpRequest) -> HttpResponse:
    patient, summary = _patient_summary(request)
    if patient is None:
        return _no_patient(request)
    items = selectors.shop_items(patient=patient, summary=summary) if summary else []
    return render(
        request, "personal_budgets/shop.html", {"patient": patient, "summary": summary, "items": items}
    )


@page_view
@require_http_methods(["GET", "POST"])
def buy(request: HttpRequest, offer_id: int) -> HttpResponse:
    patient, summary = _patient_summary(request)
    if patient is None or summary is None:
        raise Http404("No budget.")
    item = selectors.shop_offer(patient=patient, summary=summary, offer_id=offer_id)
    initial = {"name": patient.user.full_name, "quantity": item.offer.min_order_packs}
    form = BuyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.patient_checkout(
                patient=patient,
                actor=request.user,
                lines=[PatientLine(offer_id=item.offer.pk, packs=data["quantity"])],
                delivery=PatientDelivery(
                    name=data["name"], address=data["address"], postcode=data["postcode"]
                ),
                idempotency_key=data["request_key"],
            )
        except DomainError as error:
            add_domain_error(
                form,
                error,
                fields={
                    "offer": "quantity",
                    "amount": "quantity",
                    "period_cap": "quantity",
                    "item_cap": "quantity",
                    "delivery_name": "name",
                    "delivery_address": "address",
                    "delivery_postcode": "postcode",
                },
            )
        else:
            if result.waits_for_approval:
                messages.info(request, "We have asked your care coordinator. The money is put aside for now.")
            else:
                messages.success(request, "Done. Your order has gone to the shop.")
            return redirect("personal_budgets:order", order_id=result.order.pk)
    return render(
        request,
        "personal_budgets/buy.html",
        {"patient": patient, "summary": summary, "item": item, "form": form},
    )


@page_view
def orders(request: HttpRequest) -> HttpResponse:
    patient = _patient(request)
    if patient is None:
        return _no_patient(request)
    found = list(selectors.patient_orders(patient=patient)[:100])
    return render(request, "personal_budgets/orders.html", {"patient": patient, "orders": found})


@page_view
def order(request: HttpRequest, order_id: int) -> HttpResponse:
    patient = _patient(request)
    if patient is None:
        raise Http404("No such order.")
    found = selectors.patient_order(patient=patient, order_id=order_id)
    context = {
        "patient": patient,
        "order": found,
        "returns": list(return_selectors.returns_of(order=found)),
        "can_return": bool(return_selectors.returnable_lines(order=found)),
    }
    return render(request, "personal_budgets/order.html", context)


@page_view
@require_http_methods(["GET", "POST"])
def send_back(request: HttpRequest, order_id: int) -> HttpResponse:
    """Send something back: the patient (or whoever acts for them) asks the shop to take it back."""
    patient = _patient(request)
    if patient is None:
        raise Http404("No such order.")
    found = selectors.patient_order(patient=patient, order_id=order_id)
    lines = return_selectors.returnable_lines(order=found)
    if not lines:
        messages.info(request, "There is nothing in this order you can send back now.")
        return redirect("personal_budgets:order", order_id=found.pk)
    choices = [(item.line.pk, f"{item.line.description} (you can send back {item.packs})") for item in lines]
    form = ReturnForm(request.POST or None, lines=choices)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            return_services.return_request(
                order=found.pk,
                actor=request.user,
                line=data["line"],
                packs=data["packs"],
                reason=data["reason"],
                idempotency_key=data["request_key"],
            )
        except DomainError as error:
            add_domain_error(form, error, fields={"idempotency_key": None, "state": None})
        else:
            messages.success(request, "Done. We have asked the shop to take it back.")
            return redirect("personal_budgets:order", order_id=found.pk)
    return render(
        request,
        "personal_budgets/send_back.html",
        {"patient": patient, "order": found, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


def _statement(request: HttpRequest):
    patient, summary = _patient_summary(request)
    if patient is None or summary is None:
        raise Http404("No budget.")
    rows = selectors.statement_rows(budget=summary.budget)
    holds = selectors.statement_holds(budget=summary.budget)
    return {
        "patient": patient,
        "summary": summary,
        "rows": rows,
        "holds": holds,
        "today": timezone.localdate(),
    }


@page_view
def statement(request: HttpRequest) -> HttpResponse:
    patient, summary = _patient_summary(request)
    if patient is None:
        return _no_patient(request)
    if summary is None:
        return render(request, "personal_budgets/statement.html", {"patient": patient, "summary": None})
    return render(request, "personal_budgets/statement.html", _statement(request))


@page_view
def statement_csv(request: HttpRequest) -> HttpResponse:
    context = _statement(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Date", "What", "Money in (GBP)", "Money out (GBP)", "Balance (GBP)", "Ledger transfer"])
    for row in context["rows"]:
        writer.writerow(
            [
                row.when.date().isoformat(),
                _csv_text(row.what),
                _pounds(row.money_in) if row.money_in else "",
                _pounds(row.money_out) if row.money_out else "",
                _pounds(row.balance),
                row.transfer_id,
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="budget-statement.csv"'
    return response


def _pounds(money) -> str:
    return f"{money.amount:.2f}"


def _csv_text(value: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


@page_view
def statement_pdf(request: HttpRequest) -> HttpResponse:
    pdf = render_pdf("personal_budgets/statement_pdf.html", _statement(request))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="budget-statement.pdf"'
    return response


@page_view
@require_http_methods(["GET", "POST"])
def carers(request: HttpRequest) -> HttpResponse:
    """The patient lets someone act for them, or stops it (only the patient themselves)."""
    patient = _patient(request)
    if patient is None or patient.user_id != request.user.pk:
        raise Http404("No such page.")
    form = CarerForm(request.POST or None)
    if request.method == "POST":
        if "remove" in request.POST:
            link = CarerLink.objects.filter(patient=patient, pk=_int(request.POST.get("remove"))).first()
            if link is None:
                raise Http404("No such carer.")
            org_services.carer_link_delete(link=link, actor=request.user)
            messages.success(request, "Done. They can no longer act for you.")
            return redirect("personal_budgets:carers")
        if form.is_valid():
            carer = User.objects.filter(email__iexact=form.cleaned_data["email"], is_active=True).first()
            if carer is None:
                form.add_error("email", "We cannot find anyone with that email address.")
            else:
                try:
                    org_services.carer_link_create(patient=patient, carer=carer, actor=request.user)
                except DomainError as error:
                    form.add_error("email", error.message)
                else:
                    messages.success(request, "Done. They can now act for you.")
                    return redirect("personal_budgets:carers")
    links = CarerLink.objects.filter(patient=patient).select_related("carer")
    return render(request, "personal_budgets/carers.html", {"patient": patient, "form": form, "links": links})


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- The care coordinator -------------------------------------------------------------------


def _coordinator(request: HttpRequest):
    """The ICB the care coordinator acts for (a 404 for anyone else)."""
    acting = acting_for(request, kind=OrganisationKind.COMMISSIONER)
    if acting.organisation is None or not acting.has_role(Role.CARE_COORDINATOR):
        raise Http404("No such page for the organisation you act for.")
    return acting.organisation


@page_view
def coordinator(request: HttpRequest) -> HttpResponse:
    icb = _coordinator(request)
    queue = list(selectors.coordinator_queue(user=request.user))
    budgets = [
        selectors.budget_summary(budget=b)
        for b in selectors.coordinated_budgets(user=request.user, commissioner=icb)
    ]
    return render(request, "personal_budgets/coordinator.html", {"queue": queue, "budgets": budgets})


@page_view
@require_http_methods(["GET", "POST"])
def decide(request: HttpRequest, spend_id: int) -> HttpResponse:
    _coordinator(request)
    spend = selectors.coordinator_spend(user=request.user, spend_id=spend_id)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == "approve":
                services.spend_approve(spend=spend, actor=request.user, note=form.cleaned_data["reason"])
                messages.success(request, f"Approved: {spend.order.number} has gone to the supplier.")
            else:
                services.spend_decline(spend=spend, actor=request.user, reason=form.cleaned_data["reason"])
                messages.success(
                    request, f"Declined: the money for {spend.order.number} is back in the budget."
                )
        except DomainError as error:
            add_domain_error(form, error, fields={"note": "reason"})
        else:
            return redirect("personal_budgets:coordinator")
    summary = selectors.budget_summary(budget=spend.budget)
    return render(request, "personal_budgets/decide.html", {"spend": spend, "form": form, "summary": summary})


@page_view
def plan(request: HttpRequest, budget_id: int) -> HttpResponse:
    """The care coordinator's view of one person's support plan: in use, waiting, and every version."""
    icb = _coordinator(request)
    budget = selectors.coordinated_budget(user=request.user, commissioner=icb, budget_id=budget_id)
    summary = selectors.budget_summary(budget=budget)
    return render(
        request,
        "personal_budgets/plan.html",
        {
            "summary": summary,
            "versions": selectors.plan_versions(budget=budget),
            "spent": selectors.cap_period_spent(budget=budget, plan=summary.plan) if summary.plan else None,
        },
    )


@page_view
@require_http_methods(["GET", "POST"])
def plan_write(request: HttpRequest, budget_id: int) -> HttpResponse:
    """The care coordinator writes a new version of the plan, starting from the newest one."""
    icb = _coordinator(request)
    budget = selectors.coordinated_budget(user=request.user, commissioner=icb, budget_id=budget_id)
    versions = selectors.plan_versions(budget=budget)
    form = PlanForm(
        request.POST or None,
        initial=plan_initial(versions[0] if versions else None),
        categories=selectors.plan_category_choices(),
        products=selectors.plan_product_choices(),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            written = services.plan_propose(
                budget=budget,
                actor=request.user,
                categories=data["categories"],
                item_cap=data["item_cap"],
                over_cap_with_approval=data["over_cap_with_approval"],
                period_cap=data["period_cap"],
                cap_period_months=data["cap_period_months"],
                approval_categories=data["approval_categories"],
                approval_products=data["approval_products"],
                top_ups_allowed=data["top_ups_allowed"],
                notes=data["notes"],
                request_key=data["request_key"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                f"Version {written.version} is written. It is used once {budget.patient.user.full_name} "
                "agrees it on their budget page.",
            )
            return redirect("personal_budgets:plan", budget_id=budget.pk)
    return render(
        request,
        "personal_budgets/plan_write.html",
        {"budget": budget, "form": form, "newest": versions[0] if versions else None},
    )


# --- The commissioner -----------------------------------------------------------------------


def _commissioner(request: HttpRequest):
    acting = acting_for(request, kind=OrganisationKind.COMMISSIONER)
    if acting.organisation is None or not acting.has_role(Role.BUDGET_MANAGER):
        raise Http404("No such page for the organisation you act for.")
    return acting.organisation


@page_view
def commissioner(request: HttpRequest) -> HttpResponse:
    icb = _commissioner(request)
    budgets = [selectors.budget_summary(budget=b) for b in selectors.commissioner_budgets(commissioner=icb)]
    return render(request, "personal_budgets/commissioner.html", {"icb": icb, "budgets": budgets})


@page_view
@require_http_methods(["GET", "POST"])
def budget_new(request: HttpRequest) -> HttpResponse:
    """A budget manager gives a patient of the ICB they act for a budget; then allocates into it."""
    icb = _commissioner(request)
    form = BudgetForm(
        request.POST or None,
        initial={"kind": BudgetKind.NOTIONAL, "period_start": timezone.localdate()},
        patients=selectors.commissioner_patients(commissioner=icb),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            budget = services.budget_create(
                patient=data["patient"],
                actor=request.user,
                commissioner=icb,
                name=data["name"],
                kind=data["kind"],
                amount=data["amount"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                request_key=data["request_key"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                f"Budget made for {budget.patient.user.full_name}. Now allocate money into it.",
            )
            return redirect("personal_budgets:allocate", budget_id=budget.pk)
    return render(request, "personal_budgets/budget_new.html", {"icb": icb, "form": form})


@page_view
@require_http_methods(["GET", "POST"])
def allocate(request: HttpRequest, budget_id: int) -> HttpResponse:
    icb = _commissioner(request)
    budget = selectors.commissioner_budget(commissioner=icb, budget_id=budget_id)
    form = AllocateForm(request.POST or None, initial={"kind": AllocationKind.ONE_OFF})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["kind"] == AllocateKind.INSTALMENTS:
                made = services.allocation_schedule_create(
                    budget=budget,
                    actor=request.user,
                    amount=data["amount"],
                    first_on=data["due_on"],
                    instalments=data["instalments"],
                    every_months=data["every_months"],
                    note=data["note"],
                    request_key=data["request_key"],
                )
                done = (
                    f"{len(made)} instalments of £{data['amount']:,.2f} scheduled for "
                    f"{budget.patient.user.full_name}, the first on {made[0].due_on:%-d %B %Y}."
                )
            else:
                made = [
                    services.allocation_create(
                        budget=budget,
                        actor=request.user,
                        amount=data["amount"],
                        kind=data["kind"],
                        due_on=data["due_on"],
                        note=data["note"],
                        request_key=data["request_key"],
                    )
                ]
                done = f"£{data['amount']:,.2f} allocated to {budget.patient.user.full_name}."
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, done)
            return redirect("personal_budgets:commissioner")
    summary = selectors.budget_summary(budget=budget)
    return render(
        request,
        "personal_budgets/allocate.html",
        {
            "icb": icb,
            "summary": summary,
            "form": form,
            "allocations": selectors.budget_allocations(budget=budget),
        },
    )


@page_view
@require_http_methods(["GET", "POST"])
def budget_change(request: HttpRequest, budget_id: int) -> HttpResponse:
    """Rename a budget, change its amount or end it early, with a reason (budget managers)."""
    icb = _commissioner(request)
    budget = selectors.commissioner_budget(commissioner=icb, budget_id=budget_id)
    form = BudgetChangeForm(
        request.POST or None,
        initial={"name": budget.name, "amount": budget.amount, "period_end": budget.period_end},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changed = services.budget_change(
                budget=budget,
                actor=request.user,
                reason=data["reason"],
                name=data["name"],
                amount=data["amount"],
                period_end=data["period_end"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                f"{changed.name} for {changed.patient.user.full_name}: £{changed.amount:,.2f} until "
                f"{changed.period_end:%-d %B %Y}.",
            )
            return redirect("personal_budgets:allocate", budget_id=budget.pk)
    return render(
        request,
        "personal_budgets/budget_change.html",
        {
            "icb": icb,
            "summary": selectors.budget_summary(budget=budget),
            "form": form,
            "scheduled": selectors.budget_allocations(budget=budget),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@page_view
@require_http_methods(["GET", "POST"])
def allocation_cancel(request: HttpRequest, budget_id: int, allocation_id: int) -> HttpResponse:
    """Call off a scheduled allocation before its day, with a reason (budget managers)."""
    icb = _commissioner(request)
    allocation = selectors.commissioner_allocation(
        commissioner=icb, budget_id=budget_id, allocation_id=allocation_id
    )
    form = AllocationCancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.allocation_cancel(
                allocation=allocation, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            add_domain_error(form, error, fields={"allocation": None})
        else:
            messages.success(
                request,
                f"The £{allocation.amount:,.2f} due on {allocation.due_on:%-d %B %Y} is cancelled: "
                "it will not be paid in.",
            )
            return redirect("personal_budgets:allocate", budget_id=budget_id)
    return render(
        request,
        "personal_budgets/allocation_cancel.html",
        {"icb": icb, "allocation": allocation, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


def _report(request: HttpRequest) -> dict:
    icb = _commissioner(request)
    report = selectors.commissioner_report(commissioner=icb)
    return {
        "icb": icb,
        "report": report,
        "category_chart": bar_chart(report.by_category, title="Spend by category"),
        "supplier_chart": bar_chart(report.by_supplier, title="Spend by supplier"),
        "today": timezone.localdate(),
    }


@page_view
def report(request: HttpRequest) -> HttpResponse:
    return render(request, "personal_budgets/report.html", _report(request))


@page_view
def report_pdf(request: HttpRequest) -> HttpResponse:
    pdf = render_pdf("personal_budgets/report_pdf.html", _report(request))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="personal-budgets-report.pdf"'
    return response


@page_view
def report_csv(request: HttpRequest) -> HttpResponse:
    context = _report(request)
    report = context["report"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Section", "Name", "Amount (GBP)", "Left (GBP)", "Held (GBP)", "Ends"])
    writer.writerow(["Total", "Allocated", _pounds(report.allocated), "", "", ""])
    writer.writerow(["Total", "Scheduled", _pounds(report.scheduled), "", "", ""])
    writer.writerow(["Total", "Spent", _pounds(report.spent), "", "", ""])
    writer.writerow(["Total", "Unspent", _pounds(report.unspent), "", "", ""])
    for name, amount in report.by_category:
        writer.writerow(["Spend by category", _csv_text(name), _pounds(amount), "", "", ""])
    for name, amount in report.by_supplier:
        writer.writerow(["Spend by supplier", _csv_text(name), _pounds(amount), "", "", ""])
    for summary in report.budgets:
        writer.writerow(
            [
                "Budget",
                _csv_text(f"{summary.budget.patient.user.full_name}: {summary.budget.name}"),
                f"{summary.budget.amount:.2f}",
                _pounds(summary.left),
                _pounds(summary.held),
                summary.budget.period_end.isoformat(),
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="personal-budgets-report.csv"'
    return response
