"""One deployment's lifecycle: the customer's setup and the record it hands to the vendor."""
