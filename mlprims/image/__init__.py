"""Images as arrays of shape (N, C, H, W): resizing and sampling as torch does them, filters,
grey levels and histogram equalisation as OpenCV does them.

Resizing is separable and exact: per axis a small (out, in) matrix of torch's interpolation
weights, applied with matmul. Filters mirror the border as OpenCV's default
``BORDER_REFLECT_101``; compare them with OpenCV on float images (its uint8 paths round through
fixed point).

============  =====================================================================================
``resize``    resize: ``F.interpolate`` nearest / bilinear / bicubic, align_corners, antialias
``sampling``  grid_sample: ``F.grid_sample`` (4-D), bilinear / nearest, zeros / border / reflection
``filters``   gaussian_blur, sobel: ``cv2.GaussianBlur`` and ``cv2.Sobel`` (3 x 3)
``color``     rgb_to_grayscale (ITU-R BT.601), histogram_equalize: ``cv2.equalizeHist``
============  =====================================================================================
"""

from .color import histogram_equalize, rgb_to_grayscale
from .filters import gaussian_blur, sobel
from .resize import resize
from .sampling import grid_sample

__all__: list[str] = [
    "gaussian_blur",
    "grid_sample",
    "histogram_equalize",
    "resize",
    "rgb_to_grayscale",
    "sobel",
]
