"""The dashboard map, built with folium and served without any network.

Folium's default assets point at CDNs; here every map and plugin gets its own ``default_js`` /
``default_css`` pointing at this server: Leaflet, Leaflet.markercluster and jQuery from the
XStatic packages (``url_for('xstatic', ...)``), Bootstrap from Bootstrap-Flask's local copy (only
for stand-alone maps; the dashboard page has it from ``base.html``). No tiles by default: the
boundaries are vectors. ``MAP_TILES_URL`` adds any XYZ tile server (天地图 with a key, an
intranet server). Folium's awesome-markers need a CDN, so markers are CircleMarkers.

Folium draws the frame (map, named empty layers, layer control, legend); ``dashboard.js`` fills
the layers from the GeoJSON API, so the page stays small however many villages there are.

The Content-Security-Policy allows no inline script, so the page carries folium's header (asset
links) and map ``<div>`` while folium's script is served as a file of its own
(``/dashboard/map.js``, ``/dashboard/events/<id>/map.js``): every element gets a stable name, so
the page and the script, built in two requests, agree on the map's id and an unchanged script
keeps its ETag.
"""
from __future__ import annotations

import folium
from branca.element import Element, MacroElement
from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from folium.plugins import MarkerCluster
from folium.template import Template


def leaflet_assets() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``(js, css)`` for Leaflet and jQuery, served by this application."""
    js = [("leaflet", url_for("xstatic", lib="leaflet", filename="leaflet.js")),
          ("jquery", url_for("xstatic", lib="jquery", filename="jquery.min.js"))]
    css = [("leaflet_css", url_for("xstatic", lib="leaflet", filename="leaflet.css"))]
    return js, css


def bootstrap_assets() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``(js, css)`` for Bootstrap 5 and Font Awesome from Bootstrap-Flask and XStatic."""
    js = [("popper", url_for("bootstrap.static", filename="umd/popper.min.js")),
          ("bootstrap", url_for("bootstrap.static", filename="js/bootstrap.min.js"))]
    css = [("bootstrap_css", url_for("bootstrap.static", filename="css/bootstrap.min.css")),
           ("fontawesome_css", url_for("xstatic", lib="fontawesome", filename="css/all.min.css"))]
    return js, css


def cluster_assets() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    js = [("markerclusterjs", url_for("xstatic", lib="markercluster",
                                      filename="leaflet.markercluster.js"))]
    css = [("markerclustercss", url_for("xstatic", lib="markercluster", filename="MarkerCluster.css")),
           ("markerclusterdefaultcss", url_for("xstatic", lib="markercluster",
                                               filename="MarkerCluster.Default.css"))]
    return js, css


def offline(element, *assets) -> None:
    """Point an element's assets at this server (instance attributes: folium's class-level
    lists are shared and must not be mutated)."""
    element.default_js = [pair for js, _css in assets for pair in js]
    element.default_css = [pair for _js, css in assets for pair in css]


def offline_map(standalone: bool = True, **kwargs) -> folium.Map:
    """A plain ``folium.Map`` whose assets are all local (``standalone`` adds Bootstrap and
    Font Awesome, which folium's own page template expects)."""
    kwargs.setdefault("tiles", None)
    m = folium.Map(**kwargs)
    offline(m, leaflet_assets(), *([bootstrap_assets()] if standalone else []))
    return m


class EmbeddedMap(folium.Map):
    """A map for a page that extends ``base.html``: local Leaflet and jQuery only, no header of
    its own (folium's takes over ``html, body`` with ``<style>`` and sets Leaflet's switches with
    an inline ``<script>``; the map is sized by ``dashboard.css``), and the fixed id
    ``map_jiuzai``."""

    ID = "jiuzai"

    def __init__(self, min_zoom: int = 4, max_zoom: int = 15, **kwargs):
        kwargs.setdefault("tiles", None)
        super().__init__(**kwargs)
        self._id = self.ID
        # Without a tile layer Leaflet knows no zoom range, which marker clustering needs. Zoom 4
        # shows all of China, zoom 15 a village's streets; the clusters are computed for every
        # level in between, so a wider range costs loading time for nothing.
        self.options.update(minZoom=min_zoom, maxZoom=max_zoom)
        offline(self, leaflet_assets())

    def render(self, **kwargs):
        super().render(**kwargs)
        # Replaces the header folium just added under the map's name. Leaflet reads an unset
        # L_NO_TOUCH / L_DISABLE_3D as false, which is what folium's inline script set.
        self.get_root().header.add_child(Element(""), name=self.get_name())


def stable_names(element, prefix: str = "jz") -> None:
    """Number every descendant of ``element`` in tree order instead of folium's random uuids:
    the same map built twice renders to the same text."""
    counter = 0

    def walk(node):
        nonlocal counter
        for child in node._children.values():
            counter += 1
            child._id = f"{prefix}{counter}"
            walk(child)

    walk(element)


class Legend(MacroElement):
    """A legend control (图例) holding server-rendered, translated HTML."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var legend = L.control({position: "bottomright"});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "jz-legend leaflet-bar");
                div.innerHTML = {{ this.html|tojson }};
                // folded on small screens (and when the window becomes one), where it would
                // cover the map; a tap on 图例 opens it
                var box = div.querySelector("details"), small = window.matchMedia && window.matchMedia("(max-width: 767px)");
                var fold = function () { if (box && small && small.matches) { box.open = false; } };
                fold();
                if (small && small.addEventListener) { small.addEventListener("change", fold); }
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, html: str):
        super().__init__()
        self._name = "Legend"
        self.html = html


class DashboardConfig(MacroElement):
    """Hands the map, its folium layers and the page options to ``dashboard.js``."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        window.JIUZAI_MAP = {
            map: {{ this._parent.get_name() }},
            layers: {
            {%- for key, layer in this.layers.items() %}
                {{ key|tojson }}: {{ layer.get_name() }},
            {%- endfor %}
            },
            options: {{ this.options|tojson }}
        };
        {% endmacro %}
    """)

    def __init__(self, layers: dict, options: dict):
        super().__init__()
        self._name = "DashboardConfig"
        self.layers = layers
        self.options = options


#: Cluster icons take the colour of the worst village inside them.
CLUSTER_ICON = """
function (cluster) {
    var children = cluster.getAllChildMarkers(), worst = 0;
    for (var i = 0; i < children.length; i++) {
        if (children[i].options.severity > worst) { worst = children[i].options.severity; }
    }
    var n = cluster.getChildCount();
    var size = n < 100 ? "small" : (n < 1000 ? "medium" : "large");
    return L.divIcon({
        html: "<div><span>" + n + "</span></div>",
        className: "marker-cluster marker-cluster-" + size + " jz-cluster jz-sev-" + worst,
        iconSize: new L.Point(40, 40)
    });
}
"""


def dashboard_map(bounds, options: dict, with_event: bool) -> dict:
    """Build the dashboard's folium map and return its parts: ``{"header", "html"}`` for the page
    template and ``"script"``, served as ``map.js``."""
    m = EmbeddedMap(location=[35.0, 105.0], zoom_start=5)
    tiles_url = current_app.config.get("MAP_TILES_URL")
    if tiles_url:
        folium.TileLayer(tiles=tiles_url, attr=current_app.config.get("MAP_TILES_ATTRIBUTION") or _("底图"),
                         name=_("底图"), overlay=False, control=True, max_zoom=18).add_to(m)
    layers = {"counties": folium.FeatureGroup(name=_("县级区划（分级设色）"), show=True)}
    if with_event:
        cluster = MarkerCluster(name=_("受灾村庄（按灾情等级）"), icon_create_function=CLUSTER_ICON,
                                showCoverageOnHover=False, maxClusterRadius=45,
                                disableClusteringAtZoom=14)
        offline(cluster, cluster_assets())
        layers["villages"] = cluster
        layers["gaps"] = folium.FeatureGroup(name=_("保障盲区（超出服务半径）"), show=True)
        layers["footprint"] = folium.FeatureGroup(name=_("灾害影响范围（预判）"), show=True)
    layers["depots"] = folium.FeatureGroup(name=_("救灾物资储备库"), show=True)
    layers["dispatches"] = folium.FeatureGroup(name=_("在途调拨"), show=True)
    for layer in layers.values():
        layer.add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    Legend(render_template("dashboard/_legend.html", with_event=with_event,
                           options=options)).add_to(m)
    if bounds:
        m.fit_bounds(bounds, max_zoom=11)
    DashboardConfig(layers, options).add_to(m)
    stable_names(m)
    root = m.get_root()
    root.render()
    return {"header": root.header.render(), "html": root.html.render(),
            "script": root.script.render()}
