import sys

from sentence_transformers_glot.cli import main

sys.exit(main())
