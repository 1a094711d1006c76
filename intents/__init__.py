"""Understanding a question: normalisation, segmentation, dates, intent matching."""
