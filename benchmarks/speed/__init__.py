"""Speed, memory and cost: GlotPooling against mean pooling, the authors' code, its FLOP floor, LoRA."""
