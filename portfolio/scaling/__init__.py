"""Scaling: barrier assessments and the heatmap, the scaling metrics ("scaled" = in production
in at least ``metrics.SCALED_UNIT_COUNT`` business units) and adoption by another unit."""
