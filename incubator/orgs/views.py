"""社会组织名录: registration, staff list and detail, verification, records, member pages."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from incubator.accounts.models import Role
from incubator.core import states
from incubator.db import today_local
from incubator.extensions import db, limiter
from incubator.orgs import eligibility, forms, services, uscc
from incubator.orgs.models import (
    AnnualReportResult,
    CreditKind,
    CreditRecord,
    Organization,
    OrgType,
    ServiceField,
    Verification,
)
from incubator.projects.evaluations.models import GRADE_TONES
from incubator.projects.models import PROJECT_TONES
from incubator.public.services import project_record
from incubator.regions import services as regions

bp = Blueprint("orgs", __name__, url_prefix="/orgs")

STATUS_TONES = {"pending": "warning", "verified": "success", "rejected": "danger"}


# ------------------------------------------------------------------ helpers


def _require_staff():
    if not current_user.is_authenticated:
        abort(401)
    if current_user.role not in (Role.STAFF, Role.ADMIN):
        abort(403)


def _load_org(org_id: int) -> Organization:
    org = services.load_for_detail(org_id)
    if org is None:
        abort(404)
    return org


def _staff_org(org_id: int) -> Organization:
    """An organisation the current staff user may act on; other districts' look like 404."""
    _require_staff()
    org = _load_org(org_id)
    if not org.is_managed_by(current_user):
        abort(404)
    return org


def _my_org() -> Organization:
    if current_user.role != Role.APPLICANT or not current_user.org_id:
        abort(403)
    return _load_org(current_user.org_id)


def _districts():
    from sqlalchemy.orm import selectinload

    from incubator.regions.models import District, Street

    return list(
        db.session.scalars(
            db.select(District)
            .order_by(District.code)
            .options(selectinload(District.streets).selectinload(Street.communities))
        )
    )


def _org_details(form: forms.OrgDetailsForm) -> services.OrgDetails:
    return services.OrgDetails(
        name=form.name.data,
        org_type=OrgType(form.org_type.data),
        uscc=form.uscc.data or None,
        filing_number=form.filing_number.data or None,
        host_uscc=form.host_uscc.data or None,
        district_id=form.district.data,
        street_id=form.street.data or None,
        community_id=form.community.data or None,
        address=form.address.data,
        founded_on=form.founded_on.data,
        registration_authority=form.registration_authority.data or None,
        legal_rep=form.legal_rep.data,
        contact_name=form.contact_name.data,
        contact_phone=form.contact_phone.data,
        contact_email=form.contact_email.data or None,
        fields=[ServiceField(f) for f in form.fields.data],
        staff_count=form.staff_count.data,
        social_worker_count=form.social_worker_count.data,
        has_party_org=form.has_party_org.data == "1",
        party_org_note=(form.party_org_note.data or None) if form.has_party_org.data == "1" else None,
        intro=form.intro.data or None,
    )


def _contact_details(form: forms.ContactForm) -> services.ContactDetails:
    return services.ContactDetails(
        address=form.address.data,
        contact_name=form.contact_name.data,
        contact_phone=form.contact_phone.data,
        contact_email=form.contact_email.data or None,
        fields=[ServiceField(f) for f in form.fields.data],
        staff_count=form.staff_count.data,
        social_worker_count=form.social_worker_count.data,
        has_party_org=form.has_party_org.data == "1",
        party_org_note=(form.party_org_note.data or None) if form.has_party_org.data == "1" else None,
        intro=form.intro.data or None,
    )


def _field_error(form, name: str, message: str) -> None:
    field = getattr(form, name, None)
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        flash(message, "danger")


def _version(form) -> int | None:
    raw = (form.version.data or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 12 else -1 if raw else None


# ------------------------------------------------------------------ public: registration


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def register():
    form = forms.RegistrationForm()
    form.set_region_choices(_districts())
    if request.method == "POST":
        if form.validate():
            details = _org_details(form)
            member = services.MemberDetails(
                name=form.member_name.data, email=form.member_email.data, mobile=form.member_mobile.data, password=form.password.data
            )
            problems = services.find_duplicates(details, member)
            for dup in problems:
                _field_error(form, dup.field, str(dup))
            if not problems:
                try:
                    org, _user = services.register_organization(details=details, member=member)
                    db.session.commit()
                except (services.DuplicateValue, services.InvalidHost) as exc:
                    db.session.rollback()
                    _field_error(form, exc.field, str(exc))
                except IntegrityError:
                    db.session.rollback()
                    flash("组织名称、代码、邮箱或手机号已被注册，请检查后重新提交", "danger")
                else:
                    if form.uscc_warning:
                        flash(f"提示：{form.uscc_warning}", "warning")
                    flash(
                        f"“{org.name}”注册成功，当前状态：待认证。民政工作人员将核对您的登记信息并完成认证，"
                        "请使用注册邮箱登录查看审核进度；认证通过后即可申报项目。",
                        "success",
                    )
                    return redirect(url_for("accounts.login"))
        return render_template("orgs/register.html", form=form), 422
    return render_template("orgs/register.html", form=form)


@bp.get("/regions.json")
def region_options():
    """Streets of ?district=ID, or communities of ?street=ID, for the dependent selects."""
    district = services.as_id(request.args.get("district"))
    street = services.as_id(request.args.get("street"))
    if district:
        return jsonify({"items": [{"id": s.id, "name": s.name} for s in regions.streets_of(district)]})
    if street:
        return jsonify({"items": [{"id": c.id, "name": c.name} for c in regions.communities_of(street)]})
    return jsonify({"items": []})


@bp.get("/check-uscc")
@limiter.limit("120 per minute")
def check_uscc():
    """Validate a code as the user types it: the 民政 category it decodes, or why it is refused."""
    code = (request.args.get("code") or "")[:60]
    purpose = request.args.get("for", "org")
    try:
        normalised = uscc.validate(code) if purpose == "host" else uscc.validate_civil_affairs(code)
    except ValueError as exc:
        return jsonify({"ok": False, "message": str(exc)})
    body = {"ok": True, "code": normalised, "warning": uscc.org_code_warning(normalised)}
    category = uscc.civil_affairs_category(normalised)
    if category:
        body["category"] = f"{normalised[:2]} → {category}"
    if purpose == "host":
        host = services.find_host(normalised)
        body["host"] = host.name if host is not None and host.is_verified and not host.is_filed else None
        if body["host"] is None:
            body.update(ok=False, message="未找到已认证的该组织，挂靠单位须先在本平台注册并通过认证")
    return jsonify(body)


# ------------------------------------------------------------------ staff: list, export, pending


@bp.get("/")
@login_required
def index():
    _require_staff()
    filters = services.OrgFilters.from_args(request.args)
    page_no = request.args.get("page", "1")
    page = services.org_page(current_user, filters, page=int(page_no) if page_no.isdigit() and len(page_no) < 7 else 1)
    return render_template(
        "orgs/index.html",
        page=page,
        filters=filters,
        districts=regions.districts() if current_user.sees_district(None) else [],
        today=today_local(),
        sorts=services.SORTS,
        credit_filters=services.CREDIT_FILTERS,
        grade_filters=services.GRADE_FILTERS,
        status_tones=STATUS_TONES,
        org_types=OrgType.choices(),
        service_fields=ServiceField.choices(),
        statuses=Verification.choices(),
        export_form=forms.PdfForm(),
        export_limit=_export_limit(),
    )


def _export_limit() -> int:
    return int(current_app.config.get("EXPORT_SYNC_MAX_ROWS", 5000))


@bp.get("/export")
@login_required
def export():
    """The Excel file at once up to EXPORT_SYNC_MAX_ROWS organisations; above, a page that offers
    the background export (a POST: starting a job changes state, a GET never does)."""
    _require_staff()
    from incubator.core.excel import xlsx_response

    filters = services.OrgFilters.from_args(request.args)
    total = services.export_count(current_user, filters)
    if total > _export_limit():
        return render_template("orgs/export_job.html", filters=filters, total=total, limit=_export_limit(),
                               form=forms.PdfForm())
    rows = services.export_rows(current_user, filters)
    return xlsx_response(f"社会组织名录-{filters.on:%Y%m%d}.xlsx", services.EXPORT_HEADERS, rows)


@bp.post("/export")
@login_required
def export_job():
    """Start the export of the registry under the posted filters as a background job; show the job."""
    _require_staff()
    if not forms.PdfForm().validate():
        abort(400)
    filters = services.OrgFilters.from_args(request.form)
    total = services.export_count(current_user, filters)
    job = services.request_export(filters, by=current_user, rows=total)
    db.session.commit()
    flash(f"正在后台生成Excel（{total:,}个组织），完成后可在本页下载。", "info")
    return redirect(url_for("system.job", job_id=job.id))


@bp.get("/pending")
@login_required
def pending():
    _require_staff()
    return render_template("orgs/pending.html", orgs=services.pending_orgs(current_user), status_tones=STATUS_TONES)


# ------------------------------------------------------------------ detail and staff actions


def _render_detail(org: Organization, status: int = 200, **forms_):
    day = today_local()
    ctx = dict(
        org=org,
        today=day,
        history=states.history(org),
        eligibility=eligibility.check_eligibility(org, on=day),
        current_rating=org.current_rating(day),
        active_credit=services.credit_summary(org, day),
        status_tones=STATUS_TONES,
        can_act=org.is_managed_by(current_user),
        reject_form=forms_.get("reject_form") or forms.RejectForm(formdata=None),
        verify_form=forms_.get("verify_form") or forms.VerifyForm(formdata=None),
        report_form=forms_.get("report_form") or forms.AnnualReportForm(formdata=None, year=day.year - 1),
        rating_form=forms_.get("rating_form") or forms.RatingForm(formdata=None),
        credit_form=forms_.get("credit_form") or forms.CreditRecordForm(formdata=None, start_on=day),
        correction_form=forms_.get("correction_form") or forms.CorrectionForm(formdata=None, corrected_on=day),
        removal_form=forms_.get("removal_form") or forms.RemovalForm(formdata=None, removed_on=day),
        open_form=forms_.get("open_form"),
        open_record=forms_.get("open_record"),
        projects=project_record(org),
        project_tones=PROJECT_TONES,
        grade_tones=GRADE_TONES,
    )
    return render_template("orgs/detail.html", **ctx), status


@bp.get("/<int:org_id>")
@login_required
def detail(org_id: int):
    org = _load_org(org_id)
    if org.is_member(current_user) and not org.is_managed_by(current_user):
        return redirect(url_for("orgs.mine"))
    if not org.is_managed_by(current_user):
        abort(404)
    return _render_detail(org)


def _domain_error(org: Organization, exc: Exception, status: int = 409):
    db.session.rollback()
    flash(str(exc), "danger")
    return _render_detail(services.load_for_detail(org.id), status)


@bp.post("/<int:org_id>/verify")
@login_required
def verify(org_id: int):
    org = _staff_org(org_id)
    form = forms.VerifyForm()
    if not form.validate():
        return _render_detail(org, 422, verify_form=form, open_form="verify")
    try:
        services.verify(org, by=current_user, note=form.note.data or None)
        db.session.commit()
    except (states.InvalidTransition, StaleDataError) as exc:
        return _domain_error(org, exc if isinstance(exc, states.InvalidTransition) else services.ConcurrentEdit())
    flash(f"已认证通过：{org.name}", "success")
    return redirect(url_for("orgs.detail", org_id=org.id))


@bp.post("/<int:org_id>/reject")
@login_required
def reject(org_id: int):
    org = _staff_org(org_id)
    form = forms.RejectForm()
    if not form.validate():
        return _render_detail(org, 422, reject_form=form, open_form="reject")
    try:
        services.reject(org, by=current_user, reason=form.reason.data)
        db.session.commit()
    except (states.InvalidTransition, services.RegistryError) as exc:
        return _domain_error(org, exc)
    except StaleDataError:
        return _domain_error(org, services.ConcurrentEdit())
    flash(f"已驳回：{org.name}。组织用户将看到驳回原因并可修改后重新提交。", "warning")
    return redirect(url_for("orgs.detail", org_id=org.id))


@bp.post("/<int:org_id>/annual-reports")
@login_required
def add_annual_report(org_id: int):
    org = _staff_org(org_id)
    form = forms.AnnualReportForm()
    if not form.validate():
        return _render_detail(org, 422, report_form=form, open_form="report")
    try:
        services.record_annual_report(org, by=current_user, year=form.year.data, result=AnnualReportResult(form.result.data), note=form.note.data or None)
        db.session.commit()
    except services.RegistryError as exc:
        return _domain_error(org, exc)
    except IntegrityError:
        return _domain_error(org, services.RecordConflict(f"{form.year.data}年度的年报结论已登记"))
    flash(f"已登记{form.year.data}年度年报结论：{AnnualReportResult(form.result.data).label}", "success")
    return redirect(url_for("orgs.detail", org_id=org.id) + "#records")


@bp.post("/<int:org_id>/ratings")
@login_required
def add_rating(org_id: int):
    org = _staff_org(org_id)
    form = forms.RatingForm()
    if not form.validate():
        return _render_detail(org, 422, rating_form=form, open_form="rating")
    try:
        row = services.record_rating(org, by=current_user, grade=int(form.grade.data), awarded_on=form.awarded_on.data,
                                     expires_on=form.expires_on.data, source=form.source.data or None)
        db.session.commit()
    except services.RegistryError as exc:
        return _domain_error(org, exc)
    flash(f"已登记评估等级 {row.label}，有效期至{row.expires_on.year}年{row.expires_on.month}月{row.expires_on.day}日", "success")
    return redirect(url_for("orgs.detail", org_id=org.id) + "#records")


@bp.post("/<int:org_id>/credit")
@login_required
def add_credit(org_id: int):
    org = _staff_org(org_id)
    form = forms.CreditRecordForm()
    if not form.validate():
        return _render_detail(org, 422, credit_form=form, open_form="credit")
    try:
        row = services.add_credit_record(org, by=current_user, kind=CreditKind(form.kind.data), reason=form.reason.data,
                                         source=form.source.data, start_on=form.start_on.data, end_on=form.end_on.data)
        db.session.commit()
    except services.RegistryError as exc:
        return _domain_error(org, exc)
    flash(f"已登记：{row.kind.label}", "warning")
    return redirect(url_for("orgs.detail", org_id=org.id) + "#credit")


def _record(org: Organization, record_id: int) -> CreditRecord:
    record = db.session.get(CreditRecord, record_id) if services.as_id(record_id) else None
    if record is None or record.org_id != org.id:
        abort(404)
    return record


@bp.post("/<int:org_id>/credit/<int:record_id>/correct")
@login_required
def correct_credit(org_id: int, record_id: int):
    org = _staff_org(org_id)
    record = _record(org, record_id)
    form = forms.CorrectionForm()
    if not form.validate():
        return _render_detail(org, 422, correction_form=form, open_form="correct", open_record=record.id)
    try:
        services.record_correction(record, by=current_user, corrected_on=form.corrected_on.data)
        db.session.commit()
    except services.RegistryError as exc:
        return _domain_error(org, exc)
    flash(f"已登记整改，最迟于{record.end_on.year}年{record.end_on.month}月{record.end_on.day}日移出活动异常名录", "success")
    return redirect(url_for("orgs.detail", org_id=org.id) + "#credit")


@bp.post("/<int:org_id>/credit/<int:record_id>/remove")
@login_required
def remove_credit(org_id: int, record_id: int):
    org = _staff_org(org_id)
    record = _record(org, record_id)
    form = forms.RemovalForm()
    if not form.validate():
        return _render_detail(org, 422, removal_form=form, open_form="remove", open_record=record.id)
    try:
        services.remove_credit_record(record, by=current_user, removed_on=form.removed_on.data, note=form.note.data)
        db.session.commit()
    except services.RegistryError as exc:
        return _domain_error(org, exc)
    flash(f"已移出：{record.kind.label}", "success")
    return redirect(url_for("orgs.detail", org_id=org.id) + "#credit")


@bp.post("/<int:org_id>/profile-pdf")
@login_required
def profile_pdf(org_id: int):
    org = _load_org(org_id)
    if not org.can_view(current_user):
        abort(404)
    form = forms.PdfForm()
    if not form.validate():
        abort(400)
    job = services.request_profile_pdf(org, by=current_user)
    db.session.commit()
    flash("正在生成《社会组织信息登记表》，完成后可在本页下载。", "info")
    return redirect(url_for("system.job", job_id=job.id))


# ------------------------------------------------------------------ member pages


@bp.get("/mine")
@login_required
def mine():
    org = _my_org()
    day = today_local()
    return render_template(
        "orgs/mine.html",
        org=org,
        today=day,
        eligibility=eligibility.check_eligibility(org, on=day),
        current_rating=org.current_rating(day),
        active_credit=services.credit_summary(org, day),
        history=states.history(org),
        status_tones=STATUS_TONES,
        can_edit=org.can_edit_profile(current_user),
    )


def _contact_form(org: Organization) -> forms.ContactForm:
    if request.method == "POST":
        return forms.ContactForm()
    form = forms.ContactForm(obj=org)
    form.fields.data = [f.value for f in org.fields]
    form.has_party_org.data = "1" if org.has_party_org else "0"
    form.version.data = str(org.version_id)
    return form


@bp.route("/mine/edit", methods=["GET", "POST"])
@login_required
def edit_mine():
    org = _my_org()
    if not org.can_edit_profile(current_user):
        abort(403)
    form = _contact_form(org)
    if request.method == "POST":
        if form.validate():
            try:
                services.update_contact(org, by=current_user, contact=_contact_details(form), version=_version(form))
                db.session.commit()
            except (services.ConcurrentEdit, StaleDataError):
                db.session.rollback()
                flash(str(services.ConcurrentEdit()), "danger")
                return render_template("orgs/edit_mine.html", form=form, org=services.load_for_detail(org.id)), 409
            flash("组织联系信息已保存", "success")
            return redirect(url_for("orgs.mine"))
        return render_template("orgs/edit_mine.html", form=form, org=org), 422
    return render_template("orgs/edit_mine.html", form=form, org=org)


def _resubmit_form(org: Organization) -> forms.ResubmitForm:
    if request.method == "POST":
        form = forms.ResubmitForm()
    else:
        form = forms.ResubmitForm(obj=org)
        form.org_type.data = org.org_type.value
        form.district.data = org.district_id
        form.street.data = org.street_id or 0
        form.community.data = org.community_id or 0
        form.fields.data = [f.value for f in org.fields]
        form.has_party_org.data = "1" if org.has_party_org else "0"
        form.host_uscc.data = org.host_org.uscc if org.host_org else ""
        form.version.data = str(org.version_id)
    form.set_region_choices(_districts())
    return form


@bp.route("/mine/resubmit", methods=["GET", "POST"])
@login_required
def resubmit():
    org = _my_org()
    if not org.can_edit_profile(current_user):
        abort(403)
    if org.status != Verification.REJECTED:
        flash("只有被驳回的注册信息需要修改后重新提交", "info")
        return redirect(url_for("orgs.mine"))
    form = _resubmit_form(org)
    if request.method == "POST":
        if form.validate():
            details = _org_details(form)
            problems = services.find_duplicates(details, exclude_org_id=org.id)
            for dup in problems:
                _field_error(form, dup.field, str(dup))
            if not problems:
                try:
                    services.resubmit(org, by=current_user, details=details, version=_version(form))
                    db.session.commit()
                except (services.DuplicateValue, services.InvalidHost) as exc:
                    db.session.rollback()
                    _field_error(form, exc.field, str(exc))
                except (services.ConcurrentEdit, StaleDataError, states.InvalidTransition):
                    db.session.rollback()
                    flash(str(services.ConcurrentEdit()), "danger")
                    return render_template("orgs/resubmit.html", form=form, org=services.load_for_detail(org.id)), 409
                except IntegrityError:
                    db.session.rollback()
                    flash("组织名称或代码已被注册，请检查后重新提交", "danger")
                else:
                    flash("已重新提交认证，请等待民政工作人员审核", "success")
                    return redirect(url_for("orgs.mine"))
        return render_template("orgs/resubmit.html", form=form, org=org), 422
    return render_template("orgs/resubmit.html", form=form, org=org)
