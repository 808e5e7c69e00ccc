__version__ = "0.1.0"
# Written by hand (nbdev_export only rewrites the line above). Before TensorFlow is first imported: keep its C++
# start-up notices (CUDA/cuInit on a CPU machine, oneDNN, cpu_feature_guard, XLA) off the screen. A value the user
# set wins: `TF_CPP_MIN_LOG_LEVEL=0 vidnb_train ...` shows them all again.
import os as _os
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
