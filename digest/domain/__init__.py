"""The words of the field, shared by every stage: the dataset, periods, areas and findings."""
