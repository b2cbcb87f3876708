//! Stock levels, exposed to QML as a `StockModel` object.

/// A warehouse location and the units it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Bin {
    pub label: String,
    pub units: u32,
}

/// The stock model shown in the QML view.
pub struct StockModel {
    bins: Vec<Bin>,
}

impl StockModel {
    /// An empty model.
    pub fn new() -> Self {
        Self { bins: Vec::new() }
    }

    /// Put `units` into the bin called `label`, creating it if needed.
    pub fn restock(&mut self, label: &str, units: u32) {
        match self.bins.iter_mut().find(|b| b.label == label) {
            Some(bin) => bin.units += units,
            None => self.bins.push(Bin { label: label.to_string(), units }),
        }
    }

    /// Total units over all bins.
    pub fn total_units(&self) -> u32 {
        self.bins.iter().map(|b| b.units).sum()
    }
}

impl Default for StockModel {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restock_adds_units() {
        let mut model = StockModel::new();
        model.restock("A", 3);
        model.restock("A", 2);
        assert_eq!(model.total_units(), 5);
    }
}
