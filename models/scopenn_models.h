/* scopenn's model zoo: torchvision's image classifiers built on the public
 * API (scopenn.h), with torchvision's module paths as variable scopes, so
 * that a checkpoint written by `tools/export_torch.py --model NAME OUT`
 * loads strictly into the graph they build:
 *
 *     sn_tensor *images = sn_placeholder(g, "images", SN_SHAPE(-1, 224, 224, 3));
 *     sn_tensor *logits = sn_model_build(g, "resnet18", images);
 *     sn_graph_load_checkpoint(g, "resnet18.safetensors", true, NULL);
 *
 * Every builder takes NHWC float images [N, H, W, 3] (PyTorch's NCHW input
 * transposed: x.permute(0, 2, 3, 1)), normalized as the model was trained
 * (torchvision: mean 0.485, 0.456, 0.406 and std 0.229, 0.224, 0.225 per
 * channel); H and W must be known when the model is built (the batch may
 * be -1). It returns the logits [N, 1000] (no softmax), or NULL on error,
 * recorded on the graph (sticky, as every builder call). Variables are
 * created with no initializer: their values come from the checkpoint.
 * Batch norms use the model's epsilon (PyTorch's default 1e-5 unless
 * said otherwise below); dropout and stochastic depth are the identity
 * (inference); padding and pooling are PyTorch's, made explicit. */
#ifndef SCOPENN_MODELS_H
#define SCOPENN_MODELS_H

#include "scopenn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* torchvision.models.resnet18 (BasicBlock, [2, 2, 2, 2]): conv1, bn1,
 * layer1/0/conv1, ..., layer2/0/downsample/0 and /1, fc. */
SN_API sn_tensor *sn_model_resnet18(sn_graph *graph, sn_tensor *images);
/* torchvision.models.resnet50 (Bottleneck, [3, 4, 6, 3]; the stride on the
 * 3x3 conv, torchvision's "v1.5"). */
SN_API sn_tensor *sn_model_resnet50(sn_graph *graph, sn_tensor *images);
/* torchvision.models.mobilenet_v2 (width 1.0): features/0 to features/18,
 * classifier/1. */
SN_API sn_tensor *sn_model_mobilenet_v2(sn_graph *graph, sn_tensor *images);
/* torchvision.models.squeezenet1_1: features/0 to features/12 (Fire
 * modules: squeeze, expand1x1, expand3x3), classifier/1 (a 1x1 conv). */
SN_API sn_tensor *sn_model_squeezenet1_1(sn_graph *graph, sn_tensor *images);
/* torchvision.models.mobilenet_v3_large (width 1.0): features/0 to
 * features/16 (InvertedResidual: block/0, ...; squeeze-excitation fc1,
 * fc2), classifier/0, classifier/3. Batch norms with epsilon 0.001. */
SN_API sn_tensor *sn_model_mobilenet_v3_large(sn_graph *graph, sn_tensor *images);
/* torchvision.models.mobilenet_v3_small: features/0 to features/12,
 * classifier/0, classifier/3. Batch norms with epsilon 0.001. */
SN_API sn_tensor *sn_model_mobilenet_v3_small(sn_graph *graph, sn_tensor *images);
/* torchvision.models.efficientnet_b0: features/0, features/1 to 7 (stages
 * of MBConv: features/S/B/block/0, ...), features/8, classifier/1. */
SN_API sn_tensor *sn_model_efficientnet_b0(sn_graph *graph, sn_tensor *images);
/* torchvision.models.shufflenet_v2_x1_0 (stages [4, 8, 4], channels 24,
 * 116, 232, 464, 1024): conv1/0 and /1, stage2/0/branch1/0 to /3,
 * stage2/0/branch2/0 to /7, ..., conv5/0 and /1, fc. */
SN_API sn_tensor *sn_model_shufflenet_v2_x1_0(sn_graph *graph, sn_tensor *images);

/* The model named as torchvision names it ("resnet18", "mobilenet_v2",
 * "efficientnet_b0", ...: sn_model_names() lists them all). An unknown
 * name (or NULL) returns NULL with an error on the graph. */
SN_API sn_tensor *sn_model_build(sn_graph *graph, const char *name, sn_tensor *images);

/* The names sn_model_build() knows, NULL-terminated. Static storage. */
SN_API const char *const *sn_model_names(void);

#ifdef __cplusplus
}
#endif

#endif /* SCOPENN_MODELS_H */
