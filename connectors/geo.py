"""Nearest one-stop office to a shared location (knowledge/offices.yml coordinates)."""
from __future__ import annotations

import math
from typing import Any, Dict, Optional, Sequence, Tuple

from knowledge.geo import haversine_km

__all__ = ["haversine_km", "nearest_office", "describe_nearest", "parse_coordinates"]


def nearest_office(
    lat: float, lon: float, offices: Optional[Sequence[Dict[str, Any]]] = None
) -> Optional[Tuple[Dict[str, Any], float]]:
    """The office closest to (lat, lon) and its distance in km, or None when no office has coordinates."""
    if offices is None:
        from actions.offices import load_offices  # lazy: reads the YAML once, cached there

        offices = load_offices()
    best: Optional[Tuple[Dict[str, Any], float]] = None
    for office in offices:
        coords = office.get("coordinates") or {}
        try:
            olat, olon = float(coords["lat"]), float(coords["lon"])
        except (KeyError, TypeError, ValueError):
            continue
        dist = haversine_km(lat, lon, olat, olon)
        if best is None or dist < best[1]:
            best = (office, dist)
    return best


def describe_nearest(lat: float, lon: float) -> str:
    """A Vietnamese reply naming the nearest office, its distance and address."""
    found = nearest_office(lat, lon)
    if found is None:
        return ("Xin lỗi, hiện chưa có dữ liệu vị trí các điểm tiếp nhận hồ sơ. "
                "Bạn có thể gõ tên phường/xã để hỏi.")
    office, dist = found
    lines = [f"Điểm tiếp nhận hồ sơ gần bạn nhất: {office.get('name', '')} (cách khoảng {dist:.1f} km)."]
    if office.get("address"):
        lines.append(f"Địa chỉ: {office['address']}")
    if office.get("phone"):
        lines.append(f"Điện thoại: {office['phone']}")
    if str(office.get("status", "")) == "unconfirmed":
        lines.append("Lưu ý: thông tin điểm này đang chờ xác minh, bạn nên gọi trước khi đến.")
    return "\n".join(lines)


def parse_coordinates(lat: Any, lon: Any) -> Optional[Tuple[float, float]]:
    """(lat, lon) as floats when both are valid coordinates, else None."""
    try:
        flat, flon = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not (-90 <= flat <= 90 and -180 <= flon <= 180) or math.isnan(flat) or math.isnan(flon):
        return None
    return flat, flon
