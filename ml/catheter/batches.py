"""Training batches: augmented crops drawn from Prepared data, with defect oversampling and hard negatives
mined by the model being trained."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ml.catheter.augment import AugmentationPolicy
from ml.catheter.config import TrainConfig
from ml.catheter.data import Prepared


class Batches:
    """Augmented batches drawn from Prepared data: uniform permutation, or defect oversampling."""

    def __init__(self, prep: Prepared, tc: TrainConfig, device: torch.device, steps: int,
                 policy: AugmentationPolicy | None = None, seed: int = 0, model: torch.nn.Module | None = None):
        self.prep, self.tc, self.device, self.steps = prep, tc, device, steps
        self.policy = policy or AugmentationPolicy()
        self.seed = seed
        self.pos = np.nonzero(prep.labels.max(1) > 0)[0]
        self.neg = np.nonzero(prep.labels.max(1) == 0)[0]
        self.model = model                              # the model being trained: mines hard negatives
        self.spots: dict[int, tuple[int, int]] = {}     # OK shot -> where the model last fired most on it

    def indices(self, epoch: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, epoch, 11])
        n = self.steps * self.tc.batch_size
        if self.tc.oversample > 0 and len(self.pos) and len(self.neg):
            take_pos = rng.random(n) < self.tc.oversample
            return np.where(take_pos, rng.choice(self.pos, n), rng.choice(self.neg, n))
        reps = math.ceil(n / len(self.prep))
        return np.concatenate([rng.permutation(len(self.prep)) for _ in range(reps)])[:n]

    def mine(self, epoch: int) -> None:
        """Hard negatives: where the model being trained fires most on a few OK shots (``mine_per_epoch`` of
        them, a new draw each epoch). Look-alikes away from the balloon band (a ring or speck on the background)
        are rarely inside a random crop, so without this the model never learns that they are harmless."""
        tc = self.tc
        if self.model is None or tc.hard_negatives <= 0 or not tc.crop or epoch == 0 or not len(self.neg):
            return
        rng = np.random.default_rng([self.seed, epoch, 17])
        self.mine_on(rng.choice(self.neg, min(tc.mine_per_epoch, len(self.neg)), replace=False))

    def mine_on(self, pick: np.ndarray) -> None:
        """Where the model fires most on each of the OK shots ``pick`` (indices into the prepared data)."""
        if self.model is None or not len(pick):
            return
        was_training = self.model.training
        self.model.eval()
        with torch.no_grad():
            for j in range(0, len(pick), 16):
                idx = pick[j:j + 16]
                x = torch.from_numpy(self.prep.images[idx]).permute(0, 3, 1, 2).float().div_(255.0)
                seg = self.model(x.to(self.device))["seg_logits"].amax(1)       # B x h x w, any type
                h, w = seg.shape[-2:]
                scale = self.prep.images.shape[1] / h
                for i, f in zip(idx.tolist(), seg.flatten(1).argmax(1).tolist()):
                    self.spots[i] = (int((f // w + 0.5) * scale), int((f % w + 0.5) * scale))
        self.model.train(was_training)

    def _crop(self, i: int, rng: np.random.Generator):
        """A training crop of sample ``i``: near a defect (``crop_on_defect`` of defective images); on an OK
        shot, on the model's own strongest false alarm (``hard_negatives`` of those mined); else mostly on the
        balloon band (walls, highlights, folds), sometimes anywhere. Whole image when crop is 0."""
        image, masks = self.prep.images[i], self.prep.masks(i)
        c = self.tc.crop
        h, w = image.shape[:2]
        if not c or c >= min(h, w):
            return image, masks
        y0, x0 = self._window(i, masks, rng)
        return image[y0:y0 + c, x0:x0 + c], masks[:, y0:y0 + c, x0:x0 + c]

    def _window(self, i: int, masks: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
        """Top-left corner of the crop of sample ``i`` (see ``_crop``)."""
        c = self.tc.crop
        h, w = masks.shape[1:]
        union = masks.any(0)
        if union.any() and rng.random() < self.tc.crop_on_defect:
            ys, xs = np.nonzero(union)
            j = int(rng.integers(len(ys)))
            cy = ys[j] + int(rng.integers(-c // 2 + 6, c // 2 - 6))
            cx = xs[j] + int(rng.integers(-c // 2 + 6, c // 2 - 6))
        elif i in self.spots and rng.random() < self.tc.hard_negatives:
            cy, cx = (v + int(rng.integers(-c // 4, c // 4 + 1)) for v in self.spots[i])
        elif rng.random() < 0.85:
            cy, cx = int(rng.uniform(0.3, 0.7) * h), int(rng.uniform(0, w))
        else:
            cy, cx = int(rng.uniform(0, h)), int(rng.uniform(0, w))
        return int(np.clip(cy - c // 2, 0, h - c)), int(np.clip(cx - c // 2, 0, w - c))

    def __call__(self, epoch: int):
        self.mine(epoch)
        idx = self.indices(epoch)
        rng = np.random.default_rng([self.seed, epoch, 13])
        bs = self.tc.batch_size
        for s in range(self.steps):
            imgs, masks = [], []
            for i in idx[s * bs:(s + 1) * bs]:
                im, m = self._crop(int(i), rng)
                im, m, _ = self.policy(im, m, rng)
                imgs.append(im)
                masks.append(m)
            x = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).float().div_(255.0)
            m = torch.from_numpy(np.stack(masks)).float()
            seg_t = F.max_pool2d(m, 2)                  # map is at 1/2 working resolution; thin lines survive
            y = seg_t.flatten(2).amax(2)                 # image labels follow the (augmented) masks
            yield x.to(self.device), seg_t.to(self.device), y.to(self.device)
