import QtQuick
import QtQuick.Controls

ApplicationWindow {
    id: window
    width: 480
    height: 320
    visible: true
    title: qsTr("Stock")

    StockModel {
        id: stock
    }

    Column {
        anchors.centerIn: parent
        spacing: 8

        Label {
            id: totalLabel
            text: qsTr("Total units: %1").arg(stock.totalUnits)
        }

        Button {
            id: restockButton
            text: qsTr("Restock A")
            onClicked: stock.restock("A", 1)
        }
    }
}
