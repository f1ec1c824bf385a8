"""/insights for staff: response times, outcomes, deflection and savings; each table as CSV."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..forms.insights import InsightsForm
from ..services import insights
from ..services.errors import FieldError
from ..services.permissions import require
from .formglue import show_error
from .private import no_store

bp = Blueprint("insights", __name__)


def _read_filter() -> tuple[InsightsForm, insights.InsightsFilter | None]:
    """The form as the visitor filled it, and the filter (None when the input was refused: the
    errors are then on the form's fields)."""
    form = InsightsForm(formdata=request.args, meta={"csrf": False})
    try:
        chosen = insights.parse_filter(form.start.data or "", form.end.data or "", form.tags.data or "")
    except FieldError as exc:
        show_error(form, exc)
        return form, None
    form.start.data, form.end.data, form.tags.data = chosen.start.isoformat(), chosen.end.isoformat(), " ".join(
        chosen.tags)
    return form, chosen


@bp.route("/insights")
@login_required
@no_store
def index() -> ResponseReturnValue:
    require(current_user, "view_insights", None, "Insights are for staff.")
    form, chosen = _read_filter()
    if chosen is None:
        return render_template("insights/index.html", form=form, page=None), 400
    page = insights.insights_page(chosen)
    return render_template("insights/index.html", form=form, page=page, tables=insights.tables(page),
                           charts=insights.charts(page), formula=insights.savings_formula(page), glance=insights.glance(page),
                           params=chosen.params())


@bp.route("/insights/<name>.csv")
@login_required
@no_store
def table_csv(name: str) -> ResponseReturnValue:
    require(current_user, "view_insights", None, "Insights are for staff.")
    if name not in insights.TABLE_NAMES:
        abort(404)
    form, chosen = _read_filter()
    if chosen is None:
        return Response(" ".join(e for errors in form.errors.values() for e in errors) + "\n", 400,
                        mimetype="text/plain")
    out = io.StringIO()
    csv.writer(out).writerows(insights.csv_rows(insights.tables(insights.insights_page(chosen))[name]))
    filename = f"insights-{name}-{chosen.start.isoformat()}-{chosen.end.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
