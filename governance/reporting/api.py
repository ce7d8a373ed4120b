"""The executive dashboard's figures as JSON, for BI tools and scripts: the same read, scope
and filters as the page (``governance.reporting.dashboard``), each panel with its definition, the
drill-down of the rows behind it and its table (the page's toggle, the CSV/XLSX exports)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.reporting import dashboard


class DashboardPanelSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    definition = serializers.CharField()
    drilldown_url = serializers.CharField(help_text="The list of the rows behind the figure.")
    has_data = serializers.BooleanField(help_text="False: the panel's data is not there yet.")
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField(allow_null=True)),
        help_text="Cells in column order; null means no data.",
    )


class DashboardSerializer(serializers.Serializer):
    filters = serializers.CharField(help_text="The filters applied, in words.")
    generated_at = serializers.DateTimeField()
    panels = DashboardPanelSerializer(many=True)


def _cell(value):
    """JSON-safe cells: numbers stay numbers (decimals as strings, exactly), dates ISO."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


@extend_schema(
    tags=["dashboard"],
    parameters=[
        OpenApiParameter("business_unit", int, description="A unit you may see (id)."),
        OpenApiParameter("months", int, enum=[3, 6, 12], description="The period (default 6)."),
    ],
    responses={200: DashboardSerializer},
)
class DashboardView(APIView):
    """Every dashboard panel for the caller's scope: executives and CoE staff see the whole
    organisation, BU leads their units (another unit's id is a 403, as on the page)."""

    def get(self, request):
        filters = dashboard.dashboard_filters(user=request.user, params=request.query_params)
        board = dashboard.dashboard(user=request.user, filters=filters)
        panels = []
        for panel in board.panels:
            table = panel.table()
            panels.append(
                {
                    "key": panel.key,
                    "title": panel.title,
                    "definition": panel.definition,
                    "drilldown_url": request.build_absolute_uri(panel.drilldown_url),
                    "has_data": panel.has_data,
                    "columns": table.columns,
                    "rows": [[_cell(value) for value in row] for row in table.rows],
                }
            )
        payload = {"filters": filters.label(), "generated_at": board.generated_at, "panels": panels}
        return Response(DashboardSerializer(payload).data)
