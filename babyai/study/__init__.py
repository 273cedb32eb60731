"""A study of the paper's comparisons at CPU scale: the pipeline, the development sweep, the report."""
