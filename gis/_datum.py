"""GCJ-02 (火星坐标系) ↔ WGS-84, vectorised over numpy arrays.

GCJ-02 is the obfuscated datum of Chinese web maps (高德, 腾讯). The forward transform is the
published formula (as in ``fast_geocn.coord``, on the Krasovsky ellipsoid); the inverse has no
closed form and is solved by fixed-point iteration, which converges to far below a millimetre in a
handful of steps inside China.
"""
from __future__ import annotations

import numpy as np

_A = 6378245.0  # Krasovsky semi-major axis (m)
_EE = 0.00669342162296594323  # Krasovsky first eccentricity squared
# The rough mainland box used by every public implementation (and fast_geocn): outside it the
# offset is not applied.
_LON_MIN, _LON_MAX = 72.0, 137.0
_LAT_MIN, _LAT_MAX = 0.0, 55.0
_INVERSE_ITERATIONS = 8


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon >= _LON_MIN) & (lon <= _LON_MAX) & (lat >= _LAT_MIN) & (lat <= _LAT_MAX)


def _offset_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _offset_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _forward_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84 at WGS-84 ``lon``/``lat`` (degrees), ignoring the China box."""
    dlat = _offset_lat(lon - 105.0, lat - 35.0)
    dlon = _offset_lon(lon - 105.0, lat - 35.0)
    radlat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _as_arrays(lon, lat) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon_a = np.atleast_1d(np.asarray(lon, dtype=float))
    lat_a = np.atleast_1d(np.asarray(lat, dtype=float))
    lon_a, lat_a = np.broadcast_arrays(lon_a, lat_a)
    return lon_a, lat_a, scalar


def _result(lon: np.ndarray, lat: np.ndarray, scalar: bool):
    if scalar:
        return float(lon[0]), float(lat[0])
    return lon, lat


def wgs84_to_gcj02(lon, lat):
    """Convert WGS-84 longitude/latitude to GCJ-02 (火星坐标系).

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 degrees; arrays broadcast together.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02, floats for scalar input, arrays otherwise. Points outside the
        mainland box (72–137°E, 0–55°N) are returned unchanged.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    dlon, dlat = _forward_delta(lon_a, lat_a)
    inside = _in_china(lon_a, lat_a)
    return _result(np.where(inside, lon_a + dlon, lon_a), np.where(inside, lat_a + dlat, lat_a), scalar)


def gcj02_to_wgs84(lon, lat):
    """Convert GCJ-02 (火星坐标系) longitude/latitude to WGS-84.

    The standard iterative inverse: start from the GCJ-02 point and repeatedly correct by the
    forward transform's residual. The round trip WGS-84 → GCJ-02 → WGS-84 is exact to well under
    a millimetre (the requirement is 0.5 m).

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 degrees; arrays broadcast together.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS-84, floats for scalar input, arrays otherwise. Points outside the
        mainland box are returned unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(112.55, 37.87)
    >>> back = gcj02_to_wgs84(lon, lat)
    >>> round(back[0], 7), round(back[1], 7)
    (112.55, 37.87)
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    wlon, wlat = lon_a.copy(), lat_a.copy()
    for _ in range(_INVERSE_ITERATIONS):
        dlon, dlat = _forward_delta(wlon, wlat)
        wlon = lon_a - dlon
        wlat = lat_a - dlat
    inside = _in_china(lon_a, lat_a)
    return _result(np.where(inside, wlon, lon_a), np.where(inside, wlat, lat_a), scalar)
