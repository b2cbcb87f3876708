"""Domain objects of the inventory."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Item:
    """One stocked product with a unit price in cents."""

    sku: str
    name: str
    price_cents: int
    quantity: int = 0

    def total_value(self) -> int:
        """Value of the stock of this item, in cents."""
        return self.price_cents * self.quantity


@dataclass
class Inventory:
    """A collection of items indexed by SKU."""

    items: dict[str, Item] = field(default_factory=dict)

    def add(self, item: Item) -> None:
        """Add an item, or increase the quantity of an existing one."""
        if item.sku in self.items:
            self.items[item.sku].quantity += item.quantity
        else:
            self.items[item.sku] = item

    def remove(self, sku: str, quantity: int) -> None:
        """Take ``quantity`` units of ``sku`` out of stock."""
        item = self.items[sku]
        if quantity > item.quantity:
            raise ValueError(f"only {item.quantity} of {sku} in stock")
        item.quantity -= quantity

    def total_value(self) -> int:
        """Value of the whole inventory, in cents."""
        return sum(item.total_value() for item in self.items.values())
