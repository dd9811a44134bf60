"""The lineage graph of a model version: one column per kind (dataset version → study →
run → model version → images → deployments), a box per node, a click asks to open it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import (
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
)

NODE_WIDTH, NODE_HEIGHT, COLUMN_STEP, ROW_STEP = 170, 44, 200, 64
COLORS = {"dataset_version": "#e3f2fd", "run": "#fff3e0", "model_version": "#e8f5e9"}


class LineageNode(QGraphicsRectItem):
    def __init__(self, node: dict[str, Any], on_click: Any) -> None:
        super().__init__(0, 0, NODE_WIDTH, NODE_HEIGHT)
        self.node, self._on_click = node, on_click
        self.setBrush(QBrush(QColor(COLORS.get(node["kind"], "#f3e5f5"))))
        self.setPen(QPen(QColor("#888")))
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"{node['kind'].replace('_', ' ')}: {node['label']} (click to open)")
        kind = QGraphicsSimpleTextItem(node["kind"].replace("_", " "), self)
        kind.setPos(6, 3)
        kind.setBrush(QBrush(QColor("#666")))
        label = QGraphicsSimpleTextItem(node["label"][:26], self)
        label.setPos(6, 22)

    def mousePressEvent(self, event: Any) -> None:
        self._on_click(self.node)
        event.accept()


class LineageView(QGraphicsView):
    """Draws ``RegistryService.lineage`` output; ``node_clicked(panel key, item)``."""

    node_clicked = Signal(str, object)

    COLUMNS = ("dataset_version", "study", "run", "model_version", "image", "deployment")

    def __init__(self) -> None:
        super().__init__()
        self.setScene(QGraphicsScene(self))
        self.nodes: dict[str, LineageNode] = {}
        self._version: str | None = None

    def show_graph(self, graph: dict[str, Any]) -> None:
        scene = self.scene()
        scene.clear()
        self.nodes = {}
        self._version = graph.get("version")
        rows: dict[str, int] = {}
        for node in graph["nodes"]:
            col = self.COLUMNS.index(node["kind"]) if node["kind"] in self.COLUMNS else 0
            row = rows.get(node["kind"], 0)
            rows[node["kind"]] = row + 1
            item = LineageNode(node, self._on_node_clicked)
            item.setPos(col * COLUMN_STEP, row * ROW_STEP)
            scene.addItem(item)
            self.nodes[node["id"]] = item
        for edge in graph["edges"]:
            a, b = self.nodes.get(edge["from"]), self.nodes.get(edge["to"])
            if a and b:
                mid = NODE_HEIGHT / 2
                line = scene.addLine(
                    a.x() + NODE_WIDTH, a.y() + mid, b.x(), b.y() + mid, QPen(QColor("#555"), 1.5)
                )
                line.setZValue(-1)

    def _on_node_clicked(self, node: dict[str, Any]) -> None:
        item = node_item(node, self._version)
        if item is not None:
            self.node_clicked.emit(node["panel"], item)


def node_item(node: dict[str, Any], version: str | None) -> Any:
    """The item (``app.ui.items``) a lineage node opens its panel on; an image opens Deploy on
    the version it was built from."""
    from app.ui.items import DatasetItem, DeploymentItem, ModelVersionItem, RunItem, StudyItem

    kind, key = node["kind"], node["key"]
    if kind in ("dataset_version", "model_version") or (kind == "image" and version):
        name, _, number = (key if kind != "image" else version).rpartition("@")
        cls = DatasetItem if kind == "dataset_version" else ModelVersionItem
        return cls(name, int(number)) if number.isdigit() else None
    if kind == "study":
        return StudyItem(str(key))
    if kind == "run":
        return RunItem(int(key))
    if kind == "deployment":
        return DeploymentItem(int(key))
    return None
