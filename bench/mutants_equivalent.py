"""Equivalent operator mutants: mutants of a reference kernel that behave like it within
its exercise's contract (the kernel's docstring), so that no hidden case can kill them
(see :mod:`bench.bench_mutants`).

Keys are :attr:`bench.bench_mutants.Mutant.key` (exercise | mutated function | operator |
the changed line before → after), stable across edits elsewhere in the kernel. Each value
says *why* the mutant is equivalent, precisely enough for a reviewer to check it against
the kernel and its contract. A listed mutant that the hidden grade kills is reported
(``listed as equivalent but killed``) and counted as killed; an entry that matches no
generated mutant is reported as stale; ``tests/test_mutants.py`` checks both.
"""

from __future__ import annotations

#: Functions never mutated, ``"module:function"`` → why: course plumbing that an exercise's
#: reference calls but a learner never writes (e.g. a harness loading the check's weights
#: into the learner's module, and raising when the shapes differ). Its mutants would
#: measure the harness, not the hidden cases.
NOT_LEARNER_CODE: dict[str, str] = {}

_R = {
    "reshape": (
        "NumPy's reshape takes any negative size as the one inferred dimension (NumPy "
        "2.4: np.zeros((2, 3, 4)).reshape(2, -2).shape == (2, 12)), so -2 (and ~1, which "
        "is -2) reshapes exactly like -1"
    ),
    "svm": (
        "the correct class's entry is read only through np.maximum(violations, 0.0) and "
        "(violations > 0), which give the same for 0.0 and -1.0; dscores[rows, y] is "
        "overwritten afterwards"
    ),
    "knn": (
        "one more class adds a column of zero votes after the largest label; every row "
        "has k >= 1 votes, so np.argmax never picks it and ties still go to the smallest "
        "label"
    ),
    "pca": (
        "with K <= min(N, D) (the contract) only vt[:K] is used, and the first min(N, D) "
        "rows of the full SVD's Vᵀ are the same right singular vectors as the thin SVD's "
        "(up to rounding; the signs are fixed afterwards by _largest_entry_positive)"
    ),
    "es": (
        "waited grows by exactly 1 from 0 and is compared after every increment, so for "
        "an integer patience >= 1 (the contract) `waited == patience` first holds at the "
        "same epoch as `waited >= patience`"
    ),
    "ln": (
        "the contract's x (and dout) are (N, D): axis 1 and axis -1 are the same axis"
    ),
    "bool_mul": (
        "both operands are boolean arrays, and NumPy's bool * bool is the elementwise "
        "logical and with dtype bool, the same as &; * binds tighter than &, and & is "
        "associative, so a * inside a chain of & groups the same conjunction"
    ),
    "bool_floordiv": (
        "both operands are boolean arrays: a // b is a (as int8) where b is True and 0 "
        "(NumPy's integer division by zero, with a RuntimeWarning) where b is False, "
        "i.e. a & b as 0/1, and np.any reads it the same"
    ),
    "cp_sign_zero": (
        "an eigenvalue that is exactly 0 is always in `zero` (|0| <= tol·max|λ| holds, "
        "max|λ| >= 0), and `& ~zero` drops it, so counting 0 as positive (>=) or negative "
        "(<=) changes nothing"
    ),
    "cp_axis": (
        "the contract's hessians are (B, D, D), so eigvalsh's values are (B, D): axis 1 "
        "and axis -1 are the same axis"
    ),
    "cp_scale": (
        "1.5·(H + Hᵀ) is 3 times the symmetric part, so every eigenvalue is 3 times "
        "larger; the signs and the relative zero test |λ| <= tol·max|λ| are invariant "
        "under a positive scale (the contract: f and c·f have the same kinds)"
    ),
    "zca_clip": (
        "variances are eigenvalues of a covariance (positive semi-definite), negative only "
        "by rounding (|λ| ~ 1e-16·λ_max); clipping at -1 instead of 0 changes the gain "
        "1/sqrt(λ + eps) only for such λ, by a relative |λ|/(2 eps); an input where that "
        "exceeds rtol (rounding above 1e-6·eps) is one where the reference's own gain is "
        "set by rounding noise (a correct SVD-based implementation differs there as much), "
        "so no fair case separates them"
    ),
    "mp_mul": (
        "unclaimed and (view == out) are boolean arrays, and NumPy's bool * bool is the "
        "elementwise logical and with dtype bool, the same as &"
    ),
    "mp_ge": (
        "out is the maximum of each window (maxpool_forward of the same x), so view <= "
        "out everywhere and view >= out holds exactly where view == out (both are False "
        "for nan)"
    ),
    "mp_strict": (
        "both generators yield pool² views of arrays of the same shape (x and dx = "
        "np.zeros(x.shape)), so zip never sees iterables of different lengths"
    ),
    "rf_strict": (
        "zip's strict only changes anything when kernel_sizes and strides have different "
        "lengths; the contract gives both as (L,)"
    ),
    "gibbs_strict": (
        "zip's strict only changes anything when u_h and u_v have different lengths; the "
        "contract gives them as (k, N, H) and (k, N, D), the same k"
    ),
    "lstm_dim": (
        "x @ Wx + prev_h @ Wh + b is (N, 4H) for the contract's 2-D inputs, so dim 1 is "
        "the last dim"
    ),
    "kn": (
        "counts are non-negative by the contract, and so are their row sums: > 0 and != 0"
        " select the same entries"
    ),
    "gan": (
        "the first output of this gan_losses call (the discriminator loss, the only one "
        "that reads the real logits) is discarded, and g_loss = "
        "softplus(-fake_logits).mean() does not read the real logits; none of these "
        "operators raises on float tensors"
    ),
    "tf": (
        "< and <= differ only at position == lengths[n], which the next line overwrites "
        "with eos_id in both"
    ),
    "sigmoid0": (
        "the two branches differ only in where s == 0 (or -0.0) goes, and there e = "
        "exp(-0) = 1 so both give 1 / 2 exactly; nan gives nan either way"
    ),
    "vote2": (
        "every vote adds 2 instead of 1: all counts are doubled, so np.argmax and its "
        "tie-breaking (smallest label) are unchanged"
    ),
    "sign_div": (
        "the rows of Vᵀ have unit norm, so their largest-magnitude entry is non-zero and "
        "np.sign(largest) is ±1; dividing by ±1 is exactly multiplying by it"
    ),
    "bn_keepdims": (
        "batch norm calls the helper with axis=0 on (N, D) arrays: the (D,) mean "
        "broadcasts against (N, D) exactly like the (1, D) one (layer norm's axis=-1, "
        "where it would not, is a different exercise)"
    ),
    "col2im_bigger": (
        "the padded buffer only gets larger (h·4^p >= h + 2p, 2^p >= 2p, (h + 2)·2^p >= h"
        " + 2p, 3p >= 2p for h >= 1 and integer p >= 0): every window is added at the "
        "same indices and the crop x_pad[:, :, pad:pad + height, pad:pad + width] reads "
        "the same entries"
    ),
    "pad_batch": (
        "the extra zero image padded onto the batch axis is never read: "
        "conv2d_forward_naive loops over n = range(n_images) taken from the unpadded x"
    ),
    "lstm_step_axis": (
        "in this exercise the helper only receives one time step's 2-D arrays ((N, 4H) "
        "pre-activations, (N, H) gate gradients), so axis 1 is the last axis"
    ),
    "gmm_eps": (
        "10·eps in N_k is a guard for an empty component: there (every responsibility 0) "
        "these mutants give the reference's zeros (means 0 or -0.0, covariances reg·I, "
        "weights within 1e-15); elsewhere they differ from it only where N_k is below "
        "~1e-8 (|Δ means| / |means| ≈ eps / N_k against rtol 1e-7). There the result "
        "depends on the guard's size, and the course accepts no guard at all "
        "(answers/variants/week03.py 'einsum outer products, no epsilon'), whose deviation "
        "(10 eps / N_k) is larger than 9 or 11 eps's and half of -10 eps's: a hidden case "
        "that told these from 10 eps would reject that correct alternative too. "
        "10 % eps is exactly 0.0 (10 is a multiple of eps = 2^-52): that mutant is the "
        "alternative's guard"
    ),
    "es_init": (
        "the initial best_epoch and waited are overwritten at epoch 0, which improves "
        "whenever val_losses[0] is finite (loss < inf - min_delta for a finite min_delta); "
        "they only show when the first loss is +inf or nan, where the contract does not "
        "say whether epoch 0 is the best: the listed correct alternative 'scans for the "
        "first window of `patience` non-improvements' (answers/variants/week06.py) makes "
        "it the best unconditionally, the reference does not"
    ),
    "lp_ne": (
        "the divisor is the window's maximum of |x| (forward: m = maxpool(|x|)) or the "
        "Lp norm of |x| (backward: y >= m), both >= 0, so > 0 and != 0 select the same "
        "entries; nan gives nan outputs either way"
    ),
    "lp_safe2": (
        "the fallback divisor is only used where the window is all zeros (m = 0, y = 0): "
        "every term divided by it is 0 whatever it is (0 / 2 = 0 / 1 = 0, and 0 ** q is "
        "the same for both), and the forward multiplies the sum by m = 0, the backward the "
        "terms by sign(0) = 0"
    ),
    "lp_strict": (
        "both generators yield pool² views (_window_offsets of x and of dx = "
        "np.zeros(x.shape), the same shape), so zip never sees iterables of different "
        "lengths"
    ),
    "kl_axis": (
        "the contract's inputs are (N, D) (broadcastable among themselves, the result "
        "(N,)), so terms is 2-D and axis 1 is axis -1"
    ),
    "state_len": (
        "harness code: the flat state ends with the head's weight (n_classes, features) "
        "and bias (n_classes,), so len(state[-2]) == len(state[-1]) == n_classes"
    ),
    "lr_nonneg": (
        "the rates are learning rates, >= 0 (a rate of 0 freezes a group): lr <= 0 and "
        "lr == 0 agree on them (a negative rate would be gradient ascent, not a rate)"
    ),
    "last_of_one": (
        "gather with an index of shape (N, T, 1) returns (N, T, 1): the last axis has one "
        "entry, so [..., -1] is [..., 0]"
    ),
    "wgan_used": (
        "all four weights enter the loss through mlp_critic (b2 cancels between the two "
        "means but stays in the graph), so torch.autograd.grad returns a tensor for each "
        "and allow_unused is never needed"
    ),
}

EQUIVALENT: dict[str, str] = {
    "w02_logistic_loss | answers.kernels.week02:sigmoid | "
    "core/ReplaceComparisonOperator_GtE_Gt | return np.where(s >= 0, 1.0 / (1.0 + e), e /"
    " (1.0 + e)) → return np.where(s > 0, 1.0 / (1.0 + e), e / (1.0 + e))":
        _R["sigmoid0"],
    "w02_svm_loss_vectorized | answers.kernels.week02:svm_loss_vectorized | "
    "core/NumberReplacer | violations[rows, y] = 0.0 # the correct class is not a "
    "violation of itself → violations[rows, y] = -1.0 # the correct class is not a "
    "violation of itself":
        _R["svm"],
    "w03_knn_predict | answers.kernels.week03:knn_predict | core/NumberReplacer | return "
    "majority_vote(y_train[nearest], int(y_train.max()) + 1) → return "
    "majority_vote(y_train[nearest], int(y_train.max()) + 2)":
        _R["knn"],
    "w03_knn_predict | answers.kernels.week03:majority_vote | core/NumberReplacer | "
    "np.add.at(counts, (np.arange(neighbour_labels.shape[0])[:, None], neighbour_labels),"
    " 1) → np.add.at(counts, (np.arange(neighbour_labels.shape[0])[:, None], "
    "neighbour_labels), 2)":
        _R["vote2"],
    "w03_pca_fit | answers.kernels.week03:pca_fit | core/ReplaceFalseWithTrue | _, s, vt "
    "= np.linalg.svd(X - mean, full_matrices=False) → _, s, vt = np.linalg.svd(X - mean, "
    "full_matrices=True)":
        _R["pca"],
    "w03_pca_fit | answers.kernels.week03:_largest_entry_positive | "
    "core/ReplaceBinaryOperator_Mul_Div | return components * np.sign(largest)[:, None] →"
    " return components / np.sign(largest)[:, None]":
        _R["sign_div"],
    "w04_affine_backward | answers.kernels.week04:affine_backward | "
    "core/ReplaceUnaryOperator_USub_Invert | dw = x.reshape(x.shape[0], -1).T @ dout → dw"
    " = x.reshape(x.shape[0], ~1).T @ dout":
        _R["reshape"],
    "w04_affine_backward | answers.kernels.week04:affine_backward | core/NumberReplacer |"
    " dw = x.reshape(x.shape[0], -1).T @ dout → dw = x.reshape(x.shape[0], - 2).T @ dout":
        _R["reshape"],
    "w04_affine_forward | answers.kernels.week04:affine_forward | "
    "core/ReplaceUnaryOperator_USub_Invert | out = x.reshape(x.shape[0], -1) @ w + b → "
    "out = x.reshape(x.shape[0], ~1) @ w + b":
        _R["reshape"],
    "w04_affine_forward | answers.kernels.week04:affine_forward | core/NumberReplacer | "
    "out = x.reshape(x.shape[0], -1) @ w + b → out = x.reshape(x.shape[0], - 2) @ w + b":
        _R["reshape"],
    "w04_backprop_graph | answers.kernels.week04:backprop_graph | "
    "core/ReplaceUnaryOperator_USub_Invert | edges = np.asarray(edges, "
    "dtype=np.int64).reshape(-1, 2) → edges = np.asarray(edges, "
    "dtype=np.int64).reshape(~1, 2)":
        _R["reshape"],
    "w04_backprop_graph | answers.kernels.week04:backprop_graph | core/NumberReplacer | "
    "edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2) → edges = np.asarray(edges,"
    " dtype=np.int64).reshape(- 2, 2)":
        _R["reshape"],
    "w04_backprop_graph | answers.kernels.week04:topological_order | "
    "core/ReplaceUnaryOperator_USub_Invert | for i, j in np.asarray(edges, "
    "dtype=np.int64).reshape(-1, 2): → for i, j in np.asarray(edges, "
    "dtype=np.int64).reshape(~1, 2):":
        _R["reshape"],
    "w04_backprop_graph | answers.kernels.week04:topological_order | core/NumberReplacer "
    "| for i, j in np.asarray(edges, dtype=np.int64).reshape(-1, 2): → for i, j in "
    "np.asarray(edges, dtype=np.int64).reshape(- 2, 2):":
        _R["reshape"],
    "w06_batchnorm_backward | answers.kernels.week06:_normalized_backward | "
    "core/ReplaceTrueWithFalse | mean_dx_hat = dx_hat.mean(axis=axis, keepdims=True) → "
    "mean_dx_hat = dx_hat.mean(axis=axis, keepdims=False)":
        _R["bn_keepdims"],
    "w06_batchnorm_backward | answers.kernels.week06:_normalized_backward | "
    "core/ReplaceTrueWithFalse | mean_projection = (dx_hat * x_hat).mean(axis=axis, "
    "keepdims=True) → mean_projection = (dx_hat * x_hat).mean(axis=axis, keepdims=False)":
        _R["bn_keepdims"],
    "w06_early_stopping | answers.kernels.week06:early_stopping | "
    "core/ReplaceComparisonOperator_GtE_Eq | if waited >= patience: → if waited == "
    "patience:":
        _R["es"],
    "w06_layernorm_backward | answers.kernels.week06:layernorm_backward | "
    "core/ReplaceUnaryOperator_USub_UAdd | inv_std = 1 / np.sqrt(x.var(axis=-1, "
    "keepdims=True) + eps) → inv_std = 1 / np.sqrt(x.var(axis=+1, keepdims=True) + eps)":
        _R["ln"],
    "w06_layernorm_backward | answers.kernels.week06:layernorm_backward | "
    "core/ReplaceUnaryOperator_USub_UAdd | x_hat = (x - x.mean(axis=-1, keepdims=True)) *"
    " inv_std → x_hat = (x - x.mean(axis=+1, keepdims=True)) * inv_std":
        _R["ln"],
    "w06_layernorm_backward | answers.kernels.week06:layernorm_backward | "
    "core/ReplaceUnaryOperator_USub_UAdd | dx = _normalized_backward(dout * gamma, x_hat,"
    " inv_std, axis=-1) → dx = _normalized_backward(dout * gamma, x_hat, inv_std, "
    "axis=+1)":
        _R["ln"],
    "w06_layernorm_backward | answers.kernels.week06:layernorm_backward | "
    "core/ReplaceUnaryOperator_Delete_USub | inv_std = 1 / np.sqrt(x.var(axis=-1, "
    "keepdims=True) + eps) → inv_std = 1 / np.sqrt(x.var(axis=1, keepdims=True) + eps)":
        _R["ln"],
    "w06_layernorm_backward | answers.kernels.week06:layernorm_backward | "
    "core/ReplaceUnaryOperator_Delete_USub | x_hat = (x - x.mean(axis=-1, keepdims=True))"
    " * inv_std → x_hat = (x - x.mean(axis=1, keepdims=True)) * inv_std":
        _R["ln"],
    "w06_layernorm_backward | answers.kernels.week06:layernorm_backward | "
    "core/ReplaceUnaryOperator_Delete_USub | dx = _normalized_backward(dout * gamma, "
    "x_hat, inv_std, axis=-1) → dx = _normalized_backward(dout * gamma, x_hat, inv_std, "
    "axis=1)":
        _R["ln"],
    "w06_layernorm_forward | answers.kernels.week06:layernorm_forward | "
    "core/ReplaceUnaryOperator_USub_UAdd | mean = x.mean(axis=-1, keepdims=True) → mean ="
    " x.mean(axis=+1, keepdims=True)":
        _R["ln"],
    "w06_layernorm_forward | answers.kernels.week06:layernorm_forward | "
    "core/ReplaceUnaryOperator_USub_UAdd | var = x.var(axis=-1, keepdims=True) → var = "
    "x.var(axis=+1, keepdims=True)":
        _R["ln"],
    "w06_layernorm_forward | answers.kernels.week06:layernorm_forward | "
    "core/ReplaceUnaryOperator_Delete_USub | mean = x.mean(axis=-1, keepdims=True) → mean"
    " = x.mean(axis=1, keepdims=True)":
        _R["ln"],
    "w06_layernorm_forward | answers.kernels.week06:layernorm_forward | "
    "core/ReplaceUnaryOperator_Delete_USub | var = x.var(axis=-1, keepdims=True) → var = "
    "x.var(axis=1, keepdims=True)":
        _R["ln"],
    "w07_conv2d_backward | answers.kernels.week07:conv2d_backward | "
    "core/ReplaceUnaryOperator_USub_Invert | dout_cols = dout.reshape(n_images, "
    "n_filters, -1) # (N, F, Ho·Wo) → dout_cols = dout.reshape(n_images, n_filters, ~1) #"
    " (N, F, Ho·Wo)":
        _R["reshape"],
    "w07_conv2d_backward | answers.kernels.week07:conv2d_backward | "
    "core/ReplaceUnaryOperator_USub_Invert | dx = col2im(w.reshape(n_filters, -1).T @ "
    "dout_cols, x.shape, kh, kw, stride, pad) → dx = col2im(w.reshape(n_filters, ~1).T @ "
    "dout_cols, x.shape, kh, kw, stride, pad)":
        _R["reshape"],
    "w07_conv2d_backward | answers.kernels.week07:conv2d_backward | core/NumberReplacer |"
    " dout_cols = dout.reshape(n_images, n_filters, -1) # (N, F, Ho·Wo) → dout_cols = "
    "dout.reshape(n_images, n_filters, - 2) # (N, F, Ho·Wo)":
        _R["reshape"],
    "w07_conv2d_backward | answers.kernels.week07:conv2d_backward | core/NumberReplacer |"
    " dx = col2im(w.reshape(n_filters, -1).T @ dout_cols, x.shape, kh, kw, stride, pad) →"
    " dx = col2im(w.reshape(n_filters, - 2).T @ dout_cols, x.shape, kh, kw, stride, pad)":
        _R["reshape"],
    "w07_conv2d_backward | answers.kernels.week07:col2im | "
    "core/ReplaceBinaryOperator_Add_LShift | x_pad = np.zeros((n_images, channels, height"
    " + 2 * pad, width + 2 * pad), dtype=cols.dtype) → x_pad = np.zeros((n_images, "
    "channels, height << 2 * pad, width + 2 * pad), dtype=cols.dtype)":
        _R["col2im_bigger"],
    "w07_conv2d_backward | answers.kernels.week07:col2im | "
    "core/ReplaceBinaryOperator_Add_LShift | x_pad = np.zeros((n_images, channels, height"
    " + 2 * pad, width + 2 * pad), dtype=cols.dtype) → x_pad = np.zeros((n_images, "
    "channels, height + 2 * pad, width << 2 * pad), dtype=cols.dtype)":
        _R["col2im_bigger"],
    "w07_conv2d_backward | answers.kernels.week07:col2im | "
    "core/ReplaceBinaryOperator_Mul_Pow | x_pad = np.zeros((n_images, channels, height + "
    "2 * pad, width + 2 * pad), dtype=cols.dtype) → x_pad = np.zeros((n_images, channels,"
    " height + 2 ** pad, width + 2 * pad), dtype=cols.dtype)":
        _R["col2im_bigger"],
    "w07_conv2d_backward | answers.kernels.week07:col2im | "
    "core/ReplaceBinaryOperator_Mul_Pow | x_pad = np.zeros((n_images, channels, height + "
    "2 * pad, width + 2 * pad), dtype=cols.dtype) → x_pad = np.zeros((n_images, channels,"
    " height + 2 * pad, width + 2 ** pad), dtype=cols.dtype)":
        _R["col2im_bigger"],
    "w07_conv2d_backward | answers.kernels.week07:col2im | "
    "core/ReplaceBinaryOperator_Mul_LShift | x_pad = np.zeros((n_images, channels, height"
    " + 2 * pad, width + 2 * pad), dtype=cols.dtype) → x_pad = np.zeros((n_images, "
    "channels, height + 2 << pad, width + 2 * pad), dtype=cols.dtype)":
        _R["col2im_bigger"],
    "w07_conv2d_backward | answers.kernels.week07:col2im | "
    "core/ReplaceBinaryOperator_Mul_LShift | x_pad = np.zeros((n_images, channels, height"
    " + 2 * pad, width + 2 * pad), dtype=cols.dtype) → x_pad = np.zeros((n_images, "
    "channels, height + 2 * pad, width + 2 << pad), dtype=cols.dtype)":
        _R["col2im_bigger"],
    "w07_conv2d_backward | answers.kernels.week07:col2im | core/NumberReplacer | x_pad = "
    "np.zeros((n_images, channels, height + 2 * pad, width + 2 * pad), dtype=cols.dtype) "
    "→ x_pad = np.zeros((n_images, channels, height + 3 * pad, width + 2 * pad), "
    "dtype=cols.dtype)":
        _R["col2im_bigger"],
    "w07_conv2d_backward | answers.kernels.week07:col2im | core/NumberReplacer | x_pad = "
    "np.zeros((n_images, channels, height + 2 * pad, width + 2 * pad), dtype=cols.dtype) "
    "→ x_pad = np.zeros((n_images, channels, height + 2 * pad, width + 3 * pad), "
    "dtype=cols.dtype)":
        _R["col2im_bigger"],
    "w07_conv2d_forward | answers.kernels.week07:conv2d_forward | "
    "core/ReplaceUnaryOperator_USub_Invert | out = w.reshape(n_filters, -1) @ cols + b[:,"
    " None] # (N, F, Ho·Wo) → out = w.reshape(n_filters, ~1) @ cols + b[:, None] # (N, F,"
    " Ho·Wo)":
        _R["reshape"],
    "w07_conv2d_forward | answers.kernels.week07:conv2d_forward | core/NumberReplacer | "
    "out = w.reshape(n_filters, -1) @ cols + b[:, None] # (N, F, Ho·Wo) → out = "
    "w.reshape(n_filters, - 2) @ cols + b[:, None] # (N, F, Ho·Wo)":
        _R["reshape"],
    "w07_conv2d_forward_naive | answers.kernels.week07:_pad_hw | core/NumberReplacer | "
    "return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x → return "
    "np.pad(x, ((0, 1), (0, 0), (pad, pad), (pad, pad))) if pad else x":
        _R["pad_batch"],
    "w07_maxpool_backward | answers.kernels.week07:maxpool_backward | "
    "core/ReplaceBinaryOperator_BitAnd_Mul | winner = unclaimed & (view == out) → winner "
    "= unclaimed * (view == out)":
        _R["mp_mul"],
    "w07_maxpool_backward | answers.kernels.week07:maxpool_backward | "
    "core/ReplaceComparisonOperator_Eq_GtE | winner = unclaimed & (view == out) → winner "
    "= unclaimed & (view >= out)":
        _R["mp_ge"],
    "w07_maxpool_backward | answers.kernels.week07:maxpool_backward | "
    "core/ReplaceTrueWithFalse | _window_offsets(dx, pool, stride), strict=True): → "
    "_window_offsets(dx, pool, stride), strict=False):":
        _R["mp_strict"],
    "w07_receptive_field | answers.kernels.week07:receptive_field | "
    "core/ReplaceTrueWithFalse | strict=True): → strict=False):":
        _R["rf_strict"],
    "w08_gibbs_chain | answers.kernels.week08:gibbs_chain | core/ReplaceTrueWithFalse | "
    "for uniform_h, uniform_v in zip(u_h, u_v, strict=True): → for uniform_h, uniform_v "
    "in zip(u_h, u_v, strict=False):":
        _R["gibbs_strict"],
    "w09_lstm_backward | answers.kernels.week09:lstm_backward | "
    "core/ReplaceUnaryOperator_USub_Invert | flat = da.reshape(-1, da.shape[-1]) → flat ="
    " da.reshape(~1, da.shape[-1])":
        _R["reshape"],
    "w09_lstm_backward | answers.kernels.week09:lstm_backward | "
    "core/ReplaceUnaryOperator_USub_Invert | dWx = x.reshape(-1, x.shape[-1]).T @ flat → "
    "dWx = x.reshape(~1, x.shape[-1]).T @ flat":
        _R["reshape"],
    "w09_lstm_backward | answers.kernels.week09:lstm_backward | "
    "core/ReplaceUnaryOperator_USub_Invert | dWh = prev_h.reshape(-1, prev_h.shape[-1]).T"
    " @ flat → dWh = prev_h.reshape(~1, prev_h.shape[-1]).T @ flat":
        _R["reshape"],
    "w09_lstm_backward | answers.kernels.week09:lstm_backward | core/NumberReplacer | "
    "flat = da.reshape(-1, da.shape[-1]) → flat = da.reshape(- 2, da.shape[-1])":
        _R["reshape"],
    "w09_lstm_backward | answers.kernels.week09:lstm_backward | core/NumberReplacer | dWx"
    " = x.reshape(-1, x.shape[-1]).T @ flat → dWx = x.reshape(- 2, x.shape[-1]).T @ flat":
        _R["reshape"],
    "w09_lstm_backward | answers.kernels.week09:lstm_backward | core/NumberReplacer | dWh"
    " = prev_h.reshape(-1, prev_h.shape[-1]).T @ flat → dWh = prev_h.reshape(- 2, "
    "prev_h.shape[-1]).T @ flat":
        _R["reshape"],
    "w09_lstm_backward | answers.kernels.week09:_lstm_gates_backward | "
    "core/ReplaceUnaryOperator_USub_UAdd | axis=-1) → axis=+1)":
        _R["lstm_step_axis"],
    "w09_lstm_backward | answers.kernels.week09:_lstm_gates_backward | "
    "core/ReplaceUnaryOperator_Delete_USub | axis=-1) → axis=1)":
        _R["lstm_step_axis"],
    "w09_lstm_forward | answers.kernels.week09:_lstm_gates | "
    "core/ReplaceUnaryOperator_USub_UAdd | a_i, a_f, a_g, a_o = np.split(a, 4, axis=-1) →"
    " a_i, a_f, a_g, a_o = np.split(a, 4, axis=+1)":
        _R["lstm_step_axis"],
    "w09_lstm_forward | answers.kernels.week09:_lstm_gates | "
    "core/ReplaceUnaryOperator_Delete_USub | a_i, a_f, a_g, a_o = np.split(a, 4, axis=-1)"
    " → a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)":
        _R["lstm_step_axis"],
    "w09_lstm_step_backward | answers.kernels.week09:_lstm_gates | "
    "core/ReplaceUnaryOperator_USub_UAdd | a_i, a_f, a_g, a_o = np.split(a, 4, axis=-1) →"
    " a_i, a_f, a_g, a_o = np.split(a, 4, axis=+1)":
        _R["lstm_step_axis"],
    "w09_lstm_step_backward | answers.kernels.week09:_lstm_gates | "
    "core/ReplaceUnaryOperator_Delete_USub | a_i, a_f, a_g, a_o = np.split(a, 4, axis=-1)"
    " → a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)":
        _R["lstm_step_axis"],
    "w09_lstm_step_backward | answers.kernels.week09:_lstm_gates_backward | "
    "core/ReplaceUnaryOperator_USub_UAdd | axis=-1) → axis=+1)":
        _R["lstm_step_axis"],
    "w09_lstm_step_backward | answers.kernels.week09:_lstm_gates_backward | "
    "core/ReplaceUnaryOperator_Delete_USub | axis=-1) → axis=1)":
        _R["lstm_step_axis"],
    "w09_lstm_step_forward | answers.kernels.week09:_lstm_gates | "
    "core/ReplaceUnaryOperator_USub_UAdd | a_i, a_f, a_g, a_o = np.split(a, 4, axis=-1) →"
    " a_i, a_f, a_g, a_o = np.split(a, 4, axis=+1)":
        _R["lstm_step_axis"],
    "w09_lstm_step_forward | answers.kernels.week09:_lstm_gates | "
    "core/ReplaceUnaryOperator_Delete_USub | a_i, a_f, a_g, a_o = np.split(a, 4, axis=-1)"
    " → a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)":
        _R["lstm_step_axis"],
    "w09_rnn_backward | answers.kernels.week09:rnn_backward | "
    "core/ReplaceUnaryOperator_USub_Invert | flat = da.reshape(-1, da.shape[-1]) → flat ="
    " da.reshape(~1, da.shape[-1])":
        _R["reshape"],
    "w09_rnn_backward | answers.kernels.week09:rnn_backward | "
    "core/ReplaceUnaryOperator_USub_Invert | dWx = x.reshape(-1, x.shape[-1]).T @ flat → "
    "dWx = x.reshape(~1, x.shape[-1]).T @ flat":
        _R["reshape"],
    "w09_rnn_backward | answers.kernels.week09:rnn_backward | "
    "core/ReplaceUnaryOperator_USub_Invert | dWh = prev_h.reshape(-1, prev_h.shape[-1]).T"
    " @ flat → dWh = prev_h.reshape(~1, prev_h.shape[-1]).T @ flat":
        _R["reshape"],
    "w09_rnn_backward | answers.kernels.week09:rnn_backward | core/NumberReplacer | flat "
    "= da.reshape(-1, da.shape[-1]) → flat = da.reshape(- 2, da.shape[-1])":
        _R["reshape"],
    "w09_rnn_backward | answers.kernels.week09:rnn_backward | core/NumberReplacer | dWx ="
    " x.reshape(-1, x.shape[-1]).T @ flat → dWx = x.reshape(- 2, x.shape[-1]).T @ flat":
        _R["reshape"],
    "w09_rnn_backward | answers.kernels.week09:rnn_backward | core/NumberReplacer | dWh ="
    " prev_h.reshape(-1, prev_h.shape[-1]).T @ flat → dWh = prev_h.reshape(- 2, "
    "prev_h.shape[-1]).T @ flat":
        _R["reshape"],
    "w09_rnn_truncated_backward | answers.kernels.week09:rnn_truncated_backward | "
    "core/NumberReplacer | if window < 1: → if window < 0:":
        "the contract refuses a window below 1 with ValueError; the mutant lets a window of "
        "0 through the check, and the loop's range(0, T, 0) then raises ValueError itself "
        "(\"range() arg 3 must not be zero\", before any output exists); negative windows "
        "are refused by both",
    "w09_temporal_affine_backward | answers.kernels.week09:temporal_affine_backward | "
    "core/ReplaceUnaryOperator_USub_Invert | dx, dw, db = affine_backward(dout.reshape(n "
    "* steps, -1), → dx, dw, db = affine_backward(dout.reshape(n * steps, ~1),":
        _R["reshape"],
    "w09_temporal_affine_backward | answers.kernels.week09:temporal_affine_backward | "
    "core/NumberReplacer | dx, dw, db = affine_backward(dout.reshape(n * steps, -1), → "
    "dx, dw, db = affine_backward(dout.reshape(n * steps, - 2),":
        _R["reshape"],
    "w09_temporal_affine_forward | answers.kernels.week09:temporal_affine_forward | "
    "core/ReplaceUnaryOperator_USub_Invert | return out.reshape(n, steps, -1) → return "
    "out.reshape(n, steps, ~1)":
        _R["reshape"],
    "w09_temporal_affine_forward | answers.kernels.week09:temporal_affine_forward | "
    "core/NumberReplacer | return out.reshape(n, steps, -1) → return out.reshape(n, "
    "steps, - 2)":
        _R["reshape"],
    "w10_lstm_cell | answers.kernels.week10:lstm_cell | "
    "core/ReplaceUnaryOperator_USub_UAdd | a_i, a_f, a_g, a_o = (x @ Wx + prev_h @ Wh + "
    "b).chunk(4, dim=-1) → a_i, a_f, a_g, a_o = (x @ Wx + prev_h @ Wh + b).chunk(4, "
    "dim=+1)":
        _R["lstm_dim"],
    "w10_lstm_cell | answers.kernels.week10:lstm_cell | "
    "core/ReplaceUnaryOperator_Delete_USub | a_i, a_f, a_g, a_o = (x @ Wx + prev_h @ Wh +"
    " b).chunk(4, dim=-1) → a_i, a_f, a_g, a_o = (x @ Wx + prev_h @ Wh + b).chunk(4, "
    "dim=1)":
        _R["lstm_dim"],
    "w11_kneser_ney | answers.kernels.week11:kneser_ney_bigram_probs | "
    "core/ReplaceComparisonOperator_Gt_NotEq | seen = counts > 0 → seen = counts != 0":
        _R["kn"],
    "w11_kneser_ney | answers.kernels.week11:kneser_ney_bigram_probs | "
    "core/ReplaceComparisonOperator_Gt_NotEq | weight = np.where(context_totals > 0, "
    "discount * followers / safe_totals, 1.0) → weight = np.where(context_totals != 0, "
    "discount * followers / safe_totals, 1.0)":
        _R["kn"],
    "w11_perplexity | answers.kernels.week11:perplexity | "
    "core/ReplaceUnaryOperator_USub_Invert | flat = logits.reshape(-1, logits.shape[-1]) "
    "→ flat = logits.reshape(~1, logits.shape[-1])":
        _R["reshape"],
    "w11_perplexity | answers.kernels.week11:perplexity | "
    "core/ReplaceUnaryOperator_USub_Invert | nll = -log_probs[np.arange(len(flat)), "
    "targets.reshape(-1)].mean() → nll = -log_probs[np.arange(len(flat)), "
    "targets.reshape(~1)].mean()":
        _R["reshape"],
    "w11_perplexity | answers.kernels.week11:perplexity | core/NumberReplacer | flat = "
    "logits.reshape(-1, logits.shape[-1]) → flat = logits.reshape(- 2, logits.shape[-1])":
        _R["reshape"],
    "w11_perplexity | answers.kernels.week11:perplexity | core/NumberReplacer | nll = "
    "-log_probs[np.arange(len(flat)), targets.reshape(-1)].mean() → nll = "
    "-log_probs[np.arange(len(flat)), targets.reshape(- 2)].mean()":
        _R["reshape"],
    "w13_teacher_forcing_batch | answers.kernels.week13:teacher_forcing_batch | "
    "core/ReplaceComparisonOperator_Lt_LtE | inside = positions[None, :] < lengths[:, "
    "None] → inside = positions[None, :] <= lengths[:, None]":
        _R["tf"],
    "w14_gan_training_step | answers.kernels.week14:gan_training_step | "
    "core/ReplaceBinaryOperator_Add_Sub | _, g_loss = gan_losses(real @ wd + bd, (z @ Wg "
    "+ bg) @ wd + bd) → _, g_loss = gan_losses(real @ wd - bd, (z @ Wg + bg) @ wd + bd)":
        _R["gan"],
    "w14_gan_training_step | answers.kernels.week14:gan_training_step | "
    "core/ReplaceBinaryOperator_Add_Mul | _, g_loss = gan_losses(real @ wd + bd, (z @ Wg "
    "+ bg) @ wd + bd) → _, g_loss = gan_losses(real @ wd * bd, (z @ Wg + bg) @ wd + bd)":
        _R["gan"],
    "w14_gan_training_step | answers.kernels.week14:gan_training_step | "
    "core/ReplaceBinaryOperator_Add_Div | _, g_loss = gan_losses(real @ wd + bd, (z @ Wg "
    "+ bg) @ wd + bd) → _, g_loss = gan_losses(real @ wd / bd, (z @ Wg + bg) @ wd + bd)":
        _R["gan"],
    "w14_gan_training_step | answers.kernels.week14:gan_training_step | "
    "core/ReplaceBinaryOperator_Add_FloorDiv | _, g_loss = gan_losses(real @ wd + bd, (z "
    "@ Wg + bg) @ wd + bd) → _, g_loss = gan_losses(real @ wd // bd, (z @ Wg + bg) @ wd +"
    " bd)":
        _R["gan"],
    "w14_gan_training_step | answers.kernels.week14:gan_training_step | "
    "core/ReplaceBinaryOperator_Add_Mod | _, g_loss = gan_losses(real @ wd + bd, (z @ Wg "
    "+ bg) @ wd + bd) → _, g_loss = gan_losses(real @ wd % bd, (z @ Wg + bg) @ wd + bd)":
        _R["gan"],
    "w14_gan_training_step | answers.kernels.week14:gan_training_step | "
    "core/ReplaceBinaryOperator_Add_Pow | _, g_loss = gan_losses(real @ wd + bd, (z @ Wg "
    "+ bg) @ wd + bd) → _, g_loss = gan_losses(real @ wd ** bd, (z @ Wg + bg) @ wd + bd)":
        _R["gan"],
    "w03_gmm_m_step | answers.kernels.week03:gmm_m_step | core/NumberReplacer | nk = "
    "resp.sum(axis=0) + 10 * np.finfo(np.float64).eps → nk = resp.sum(axis=0) + 11 * "
    "np.finfo(np.float64).eps":
        _R["gmm_eps"],
    "w03_gmm_m_step | answers.kernels.week03:gmm_m_step | core/NumberReplacer | nk = "
    "resp.sum(axis=0) + 10 * np.finfo(np.float64).eps → nk = resp.sum(axis=0) + 9 * n"
    "p.finfo(np.float64).eps":
        _R["gmm_eps"],
    "w03_gmm_m_step | answers.kernels.week03:gmm_m_step | core/ReplaceBinaryOperator_"
    "Add_Sub | nk = resp.sum(axis=0) + 10 * np.finfo(np.float64).eps → nk = resp.sum("
    "axis=0) - 10 * np.finfo(np.float64).eps":
        _R["gmm_eps"],
    "w03_gmm_m_step | answers.kernels.week03:gmm_m_step | core/ReplaceBinaryOperator_"
    "Mul_Mod | nk = resp.sum(axis=0) + 10 * np.finfo(np.float64).eps → nk = resp.sum("
    "axis=0) + 10 % np.finfo(np.float64).eps":
        _R["gmm_eps"],
    "w06_early_stopping | answers.kernels.week06:early_stopping | core/NumberReplacer"
    " | best, best_epoch, waited = np.inf, 0, 0 → best, best_epoch, waited = np.inf, "
    "-1, 0":
        _R["es_init"],
    "w06_early_stopping | answers.kernels.week06:early_stopping | core/NumberReplacer"
    " | best, best_epoch, waited = np.inf, 0, 0 → best, best_epoch, waited = np.inf, "
    "0, -1":
        _R["es_init"],
    "w06_early_stopping | answers.kernels.week06:early_stopping | core/NumberReplacer"
    " | best, best_epoch, waited = np.inf, 0, 0 → best, best_epoch, waited = np.inf, "
    "0, 1":
        _R["es_init"],
    "w06_early_stopping | answers.kernels.week06:early_stopping | core/NumberReplacer"
    " | best, best_epoch, waited = np.inf, 0, 0 → best, best_epoch, waited = np.inf, "
    "1, 0":
        _R["es_init"],
    "w06_spatial_batchnorm_backward | answers.kernels.week06:_channels_last | core/Nu"
    "mberReplacer | return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1]) → return x"
    ".transpose(0, 2, 3, 1).reshape(- 2, x.shape[1])":
        _R["reshape"],
    "w06_spatial_batchnorm_backward | answers.kernels.week06:_channels_last | core/Re"
    "placeUnaryOperator_USub_Invert | return x.transpose(0, 2, 3, 1).reshape(-1, x.sh"
    "ape[1]) → return x.transpose(0, 2, 3, 1).reshape(~1, x.shape[1])":
        _R["reshape"],
    "w06_spatial_batchnorm_forward | answers.kernels.week06:_channels_last | core/Num"
    "berReplacer | return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1]) → return x."
    "transpose(0, 2, 3, 1).reshape(- 2, x.shape[1])":
        _R["reshape"],
    "w06_spatial_batchnorm_forward | answers.kernels.week06:_channels_last | core/Rep"
    "laceUnaryOperator_USub_Invert | return x.transpose(0, 2, 3, 1).reshape(-1, x.sha"
    "pe[1]) → return x.transpose(0, 2, 3, 1).reshape(~1, x.shape[1])":
        _R["reshape"],
    "w07_lp_pool_backward | answers.kernels.week07:lp_pool_backward | core/NumberRepl"
    "acer | safe = np.where(y > 0, y, 1.0) → safe = np.where(y > 0, y, 2.0)":
        _R["lp_safe2"],
    "w07_lp_pool_backward | answers.kernels.week07:lp_pool_backward | core/ReplaceCom"
    "parisonOperator_Gt_NotEq | safe = np.where(y > 0, y, 1.0) → safe = np.where(y !="
    " 0, y, 1.0)":
        _R["lp_ne"],
    "w07_lp_pool_backward | answers.kernels.week07:lp_pool_backward | core/ReplaceTru"
    "eWithFalse | strict=True): → strict=False):":
        _R["lp_strict"],
    "w07_lp_pool_forward | answers.kernels.week07:lp_pool_forward | core/NumberReplac"
    "er | safe = np.where(m > 0, m, 1.0) # a window of zeros: every term is 0 → safe "
    "= np.where(m > 0, m, 2.0) # a window of zeros: every term is 0":
        _R["lp_safe2"],
    "w07_lp_pool_forward | answers.kernels.week07:lp_pool_forward | core/ReplaceCompa"
    "risonOperator_Gt_NotEq | safe = np.where(m > 0, m, 1.0) # a window of zeros: eve"
    "ry term is 0 → safe = np.where(m != 0, m, 1.0) # a window of zeros: every term i"
    "s 0":
        _R["lp_ne"],
    "w08_kl_gaussians | answers.kernels.week08:kl_gaussians | core/ReplaceUnaryOperat"
    "or_Delete_USub | return 0.5 * terms.sum(axis=-1) → return 0.5 * terms.sum(axis=1"
    ")":
        _R["kl_axis"],
    "w08_kl_gaussians | answers.kernels.week08:kl_gaussians | core/ReplaceUnaryOperat"
    "or_USub_UAdd | return 0.5 * terms.sum(axis=-1) → return 0.5 * terms.sum(axis=+1)":
        _R["kl_axis"],
    "w12_finetune_step | answers.kernels.week12:finetune_step_probe | core/NumberRepl"
    "acer | model = SmallResNet(tuple(int(w) for w in widths), n_classes=len(state[-1"
    "])).to(x.dtype) → model = SmallResNet(tuple(int(w) for w in widths), n_classes=l"
    "en(state[- 2])).to(x.dtype)":
        _R["state_len"],
    "w12_finetune_step | answers.kernels.week12:finetune_step_probe | core/ReplaceUna"
    "ryOperator_USub_Invert | model = SmallResNet(tuple(int(w) for w in widths), n_cl"
    "asses=len(state[-1])).to(x.dtype) → model = SmallResNet(tuple(int(w) for w in wi"
    "dths), n_classes=len(state[~1])).to(x.dtype)":
        _R["state_len"],
    "w12_prepare_finetuning | answers.kernels.week12:finetune_setup_probe | core/Numb"
    "erReplacer | model = SmallResNet(tuple(int(w) for w in widths), n_classes=len(st"
    "ate[-1])).to(x.dtype) → model = SmallResNet(tuple(int(w) for w in widths), n_cla"
    "sses=len(state[- 2])).to(x.dtype)":
        _R["state_len"],
    "w12_prepare_finetuning | answers.kernels.week12:finetune_setup_probe | core/Repl"
    "aceUnaryOperator_USub_Invert | model = SmallResNet(tuple(int(w) for w in widths)"
    ", n_classes=len(state[-1])).to(x.dtype) → model = SmallResNet(tuple(int(w) for w"
    " in widths), n_classes=len(state[~1])).to(x.dtype)":
        _R["state_len"],
    "w12_prepare_finetuning | answers.kernels.week12:prepare_finetuning | core/Replac"
    "eComparisonOperator_Eq_LtE | if lr == 0: → if lr <= 0:":
        _R["lr_nonneg"],
    "w13_sequence_loss | answers.kernels.week13:sequence_loss | core/NumberReplacer |"
    " picked = log_probs.gather(-1, targets[..., None].clamp(min=0))[..., 0] # (N, T)"
    " → picked = log_probs.gather(-1, targets[..., None].clamp(min=0))[..., -1] # (N,"
    " T)":
        _R["last_of_one"],
    "w13_sequence_loss | answers.kernels.week13:sequence_loss | core/NumberReplacer |"
    " picked = log_probs.gather(-1, targets[..., None].clamp(min=0))[..., 0] # (N, T)"
    " → picked = log_probs.gather(-1, targets[..., None].clamp(min= -1))[..., 0] # (N, T)":
        "pad_id is a token of the vocabulary (the contract: 'the padding token'), so every "
        "target lies in [0, V) and neither clamp changes an index; the course's own solution "
        "gathers without a clamp",
    "w14_wgan_clip_step | answers.kernels.week14:wgan_clip_step | core/ReplaceTrueWit"
    "hFalse | for w, g in zip(weights, torch.autograd.grad(loss, weights, allow_unuse"
    "d=True))] → for w, g in zip(weights, torch.autograd.grad(loss, weights, allow_un"
    "used=False))]":
        _R["wgan_used"],
    "w03_zca_whiten | answers.kernels.week03:zca_whiten | core/NumberReplacer | gains ="
    " 1.0 / np.sqrt(np.clip(variances, 0.0, None) + eps) → gains = 1.0 /"
    " np.sqrt(np.clip(variances, -1.0, None) + eps)":
        _R["zca_clip"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceBinaryOperator_BitAnd_Mul | positive = np.any((values > 0) & ~zero,"
    " axis=-1) → positive = np.any((values > 0) * ~zero, axis=-1)":
        _R["bool_mul"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceBinaryOperator_BitAnd_Mul | negative = np.any((values < 0) & ~zero,"
    " axis=-1) → negative = np.any((values < 0) * ~zero, axis=-1)":
        _R["bool_mul"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceBinaryOperator_BitAnd_Mul | kind[positive & negative] = SADDLE →"
    " kind[positive * negative] = SADDLE":
        _R["bool_mul"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceBinaryOperator_BitAnd_Mul | kind[positive & ~negative & ~degenerate] ="
    " MINIMUM → kind[positive * ~negative & ~degenerate] = MINIMUM":
        _R["bool_mul"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceBinaryOperator_BitAnd_Mul | kind[positive & ~negative & ~degenerate] ="
    " MINIMUM → kind[positive & ~negative * ~degenerate] = MINIMUM":
        _R["bool_mul"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceBinaryOperator_BitAnd_Mul | kind[negative & ~positive & ~degenerate] ="
    " MAXIMUM → kind[negative * ~positive & ~degenerate] = MAXIMUM":
        _R["bool_mul"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceBinaryOperator_BitAnd_Mul | kind[negative & ~positive & ~degenerate] ="
    " MAXIMUM → kind[negative & ~positive * ~degenerate] = MAXIMUM":
        _R["bool_mul"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceBinaryOperator_BitAnd_FloorDiv | positive = np.any((values > 0) &"
    " ~zero, axis=-1) → positive = np.any((values > 0) // ~zero, axis=-1)":
        _R["bool_floordiv"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceBinaryOperator_BitAnd_FloorDiv | negative = np.any((values < 0) &"
    " ~zero, axis=-1) → negative = np.any((values < 0) // ~zero, axis=-1)":
        _R["bool_floordiv"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceComparisonOperator_Lt_LtE | negative = np.any((values < 0) & ~zero,"
    " axis=-1) → negative = np.any((values <= 0) & ~zero, axis=-1)":
        _R["cp_sign_zero"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceComparisonOperator_Gt_GtE | positive = np.any((values > 0) & ~zero,"
    " axis=-1) → positive = np.any((values >= 0) & ~zero, axis=-1)":
        _R["cp_sign_zero"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceUnaryOperator_USub_UAdd | zero = np.abs(values) <= tol *"
    " np.max(np.abs(values), axis=-1, keepdims=True) → zero = np.abs(values) <= tol *"
    " np.max(np.abs(values), axis=+1, keepdims=True)":
        _R["cp_axis"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceUnaryOperator_USub_UAdd | positive = np.any((values > 0) & ~zero,"
    " axis=-1) → positive = np.any((values > 0) & ~zero, axis=+1)":
        _R["cp_axis"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceUnaryOperator_USub_UAdd | negative = np.any((values < 0) & ~zero,"
    " axis=-1) → negative = np.any((values < 0) & ~zero, axis=+1)":
        _R["cp_axis"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceUnaryOperator_USub_UAdd | degenerate = np.any(zero, axis=-1) →"
    " degenerate = np.any(zero, axis=+1)":
        _R["cp_axis"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceUnaryOperator_Delete_USub | zero = np.abs(values) <= tol *"
    " np.max(np.abs(values), axis=-1, keepdims=True) → zero = np.abs(values) <= tol *"
    " np.max(np.abs(values), axis=1, keepdims=True)":
        _R["cp_axis"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceUnaryOperator_Delete_USub | positive = np.any((values > 0) & ~zero,"
    " axis=-1) → positive = np.any((values > 0) & ~zero, axis=1)":
        _R["cp_axis"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceUnaryOperator_Delete_USub | negative = np.any((values < 0) & ~zero,"
    " axis=-1) → negative = np.any((values < 0) & ~zero, axis=1)":
        _R["cp_axis"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/ReplaceUnaryOperator_Delete_USub | degenerate = np.any(zero, axis=-1) →"
    " degenerate = np.any(zero, axis=1)":
        _R["cp_axis"],
    "w05_classify_critical_point | answers.kernels.week05:classify_critical_point |"
    " core/NumberReplacer | symmetric = 0.5 * (hessians + np.swapaxes(hessians, -1, -2))"
    " → symmetric = 1.5 * (hessians + np.swapaxes(hessians, -1, -2))":
        _R["cp_scale"],
}
