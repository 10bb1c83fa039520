"""`just bench`: the load benchmark and the framework-free ceiling it is measured against."""
