"""Text reports over an inventory."""

from inventory.models import Inventory


def format_cents(cents: int) -> str:
    """Format an amount in cents as dollars, e.g. 1234 -> '$12.34'."""
    return f"${cents // 100}.{cents % 100:02d}"


def low_stock(inventory: Inventory, threshold: int = 5) -> list[str]:
    """SKUs whose quantity is below ``threshold``, sorted."""
    return sorted(sku for sku, item in inventory.items.items() if item.quantity < threshold)


def summary(inventory: Inventory) -> str:
    """One line per item and a total."""
    lines = [
        f"{item.sku:<8} {item.name:<20} {item.quantity:>4} {format_cents(item.total_value())}"
        for item in inventory.items.values()
    ]
    lines.append(f"total: {format_cents(inventory.total_value())}")
    return "\n".join(lines)
