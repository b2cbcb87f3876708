from inventory.models import Inventory, Item


def test_total_value() -> None:
    inv = Inventory()
    inv.add(Item("A1", "bolt", 25, 4))
    inv.add(Item("B2", "nut", 10, 10))
    assert inv.total_value() == 200
