import type { GenEnum, GenFile, GenMessage, GenService } from "@bufbuild/protobuf/codegenv2";
import type { Message } from "@bufbuild/protobuf";
/**
 * Describes the file amc/v1/action_service.proto.
 */
export declare const file_amc_v1_action_service: GenFile;
/**
 * @generated from message amc.v1.DecideRequest
 */
export type DecideRequest = Message<"amc.v1.DecideRequest"> & {
    /**
     * @generated from field: string session_id = 1;
     */
    sessionId: string;
    /**
     * The `attention.request_id` of the session.
     *
     * @generated from field: string request_id = 2;
     */
    requestId: string;
    /**
     * @generated from field: amc.v1.Behavior behavior = 3;
     */
    behavior: Behavior;
    /**
     * Shown to Claude with a denial.
     *
     * @generated from field: optional string message = 4;
     */
    message?: string | undefined;
};
/**
 * Describes the message amc.v1.DecideRequest.
 * Use `create(DecideRequestSchema)` to create a new message.
 */
export declare const DecideRequestSchema: GenMessage<DecideRequest>;
/**
 * @generated from message amc.v1.SendTextRequest
 */
export type SendTextRequest = Message<"amc.v1.SendTextRequest"> & {
    /**
     * @generated from field: string session_id = 1;
     */
    sessionId: string;
    /**
     * Printable text, at most 16 KiB; control characters and escape sequences are refused.
     *
     * @generated from field: string text = 2;
     */
    text: string;
};
/**
 * Describes the message amc.v1.SendTextRequest.
 * Use `create(SendTextRequestSchema)` to create a new message.
 */
export declare const SendTextRequestSchema: GenMessage<SendTextRequest>;
/**
 * @generated from message amc.v1.AnswerRequest
 */
export type AnswerRequest = Message<"amc.v1.AnswerRequest"> & {
    /**
     * @generated from field: string session_id = 1;
     */
    sessionId: string;
    /**
     * 1-based option numbers as the question shows them; several for a multi-select question.
     *
     * @generated from field: repeated uint32 options = 2;
     */
    options: number[];
    /**
     * Free text instead of options.
     *
     * @generated from field: string text = 3;
     */
    text: string;
};
/**
 * Describes the message amc.v1.AnswerRequest.
 * Use `create(AnswerRequestSchema)` to create a new message.
 */
export declare const AnswerRequestSchema: GenMessage<AnswerRequest>;
/**
 * @generated from message amc.v1.DismissRequest
 */
export type DismissRequest = Message<"amc.v1.DismissRequest"> & {
    /**
     * @generated from field: string session_id = 1;
     */
    sessionId: string;
};
/**
 * Describes the message amc.v1.DismissRequest.
 * Use `create(DismissRequestSchema)` to create a new message.
 */
export declare const DismissRequestSchema: GenMessage<DismissRequest>;
/**
 * @generated from message amc.v1.RestoreRequest
 */
export type RestoreRequest = Message<"amc.v1.RestoreRequest"> & {
    /**
     * @generated from field: string session_id = 1;
     */
    sessionId: string;
};
/**
 * Describes the message amc.v1.RestoreRequest.
 * Use `create(RestoreRequestSchema)` to create a new message.
 */
export declare const RestoreRequestSchema: GenMessage<RestoreRequest>;
/**
 * @generated from message amc.v1.SetRemoteApprovalRequest
 */
export type SetRemoteApprovalRequest = Message<"amc.v1.SetRemoteApprovalRequest"> & {
    /**
     * @generated from field: string session_id = 1;
     */
    sessionId: string;
    /**
     * @generated from field: bool enabled = 2;
     */
    enabled: boolean;
};
/**
 * Describes the message amc.v1.SetRemoteApprovalRequest.
 * Use `create(SetRemoteApprovalRequestSchema)` to create a new message.
 */
export declare const SetRemoteApprovalRequestSchema: GenMessage<SetRemoteApprovalRequest>;
/**
 * @generated from message amc.v1.FocusRequest
 */
export type FocusRequest = Message<"amc.v1.FocusRequest"> & {
    /**
     * @generated from field: string session_id = 1;
     */
    sessionId: string;
};
/**
 * Describes the message amc.v1.FocusRequest.
 * Use `create(FocusRequestSchema)` to create a new message.
 */
export declare const FocusRequestSchema: GenMessage<FocusRequest>;
/**
 * @generated from message amc.v1.DecideResponse
 */
export type DecideResponse = Message<"amc.v1.DecideResponse"> & {
    /**
     * @generated from field: amc.v1.ActionResult result = 1;
     */
    result?: ActionResult | undefined;
};
/**
 * Describes the message amc.v1.DecideResponse.
 * Use `create(DecideResponseSchema)` to create a new message.
 */
export declare const DecideResponseSchema: GenMessage<DecideResponse>;
/**
 * @generated from message amc.v1.SendTextResponse
 */
export type SendTextResponse = Message<"amc.v1.SendTextResponse"> & {
    /**
     * @generated from field: amc.v1.ActionResult result = 1;
     */
    result?: ActionResult | undefined;
};
/**
 * Describes the message amc.v1.SendTextResponse.
 * Use `create(SendTextResponseSchema)` to create a new message.
 */
export declare const SendTextResponseSchema: GenMessage<SendTextResponse>;
/**
 * @generated from message amc.v1.AnswerResponse
 */
export type AnswerResponse = Message<"amc.v1.AnswerResponse"> & {
    /**
     * @generated from field: amc.v1.ActionResult result = 1;
     */
    result?: ActionResult | undefined;
};
/**
 * Describes the message amc.v1.AnswerResponse.
 * Use `create(AnswerResponseSchema)` to create a new message.
 */
export declare const AnswerResponseSchema: GenMessage<AnswerResponse>;
/**
 * @generated from message amc.v1.DismissResponse
 */
export type DismissResponse = Message<"amc.v1.DismissResponse"> & {
    /**
     * @generated from field: amc.v1.ActionResult result = 1;
     */
    result?: ActionResult | undefined;
};
/**
 * Describes the message amc.v1.DismissResponse.
 * Use `create(DismissResponseSchema)` to create a new message.
 */
export declare const DismissResponseSchema: GenMessage<DismissResponse>;
/**
 * @generated from message amc.v1.RestoreResponse
 */
export type RestoreResponse = Message<"amc.v1.RestoreResponse"> & {
    /**
     * @generated from field: amc.v1.ActionResult result = 1;
     */
    result?: ActionResult | undefined;
};
/**
 * Describes the message amc.v1.RestoreResponse.
 * Use `create(RestoreResponseSchema)` to create a new message.
 */
export declare const RestoreResponseSchema: GenMessage<RestoreResponse>;
/**
 * @generated from message amc.v1.SetRemoteApprovalResponse
 */
export type SetRemoteApprovalResponse = Message<"amc.v1.SetRemoteApprovalResponse"> & {
    /**
     * @generated from field: amc.v1.ActionResult result = 1;
     */
    result?: ActionResult | undefined;
};
/**
 * Describes the message amc.v1.SetRemoteApprovalResponse.
 * Use `create(SetRemoteApprovalResponseSchema)` to create a new message.
 */
export declare const SetRemoteApprovalResponseSchema: GenMessage<SetRemoteApprovalResponse>;
/**
 * @generated from message amc.v1.FocusResponse
 */
export type FocusResponse = Message<"amc.v1.FocusResponse"> & {
    /**
     * @generated from field: amc.v1.ActionResult result = 1;
     */
    result?: ActionResult | undefined;
};
/**
 * Describes the message amc.v1.FocusResponse.
 * Use `create(FocusResponseSchema)` to create a new message.
 */
export declare const FocusResponseSchema: GenMessage<FocusResponse>;
/**
 * What an action did.
 *
 * @generated from message amc.v1.ActionResult
 */
export type ActionResult = Message<"amc.v1.ActionResult"> & {
    /**
     * @generated from field: string session_id = 1;
     */
    sessionId: string;
    /**
     * `decide`, `send_text`, `answer`, `dismiss`, `restore`, `remote_approval`, `focus`.
     *
     * @generated from field: string action = 2;
     */
    action: string;
    /**
     * `delivered`, `already_answered`, `withdrawn`, `pane_gone`, `dismissed`, `already_dismissed`, `restored`,
     * `already_present`, `enabled`, `disabled`, `focused`.
     *
     * @generated from field: string outcome = 3;
     */
    outcome: string;
    /**
     * For people: where a file went, what was typed where.
     *
     * @generated from field: string detail = 4;
     */
    detail: string;
};
/**
 * Describes the message amc.v1.ActionResult.
 * Use `create(ActionResultSchema)` to create a new message.
 */
export declare const ActionResultSchema: GenMessage<ActionResult>;
/**
 * What to do with a permission request.
 *
 * @generated from enum amc.v1.Behavior
 */
export declare enum Behavior {
    /**
     * @generated from enum value: BEHAVIOR_UNSPECIFIED = 0;
     */
    UNSPECIFIED = 0,
    /**
     * Let the tool run.
     *
     * @generated from enum value: BEHAVIOR_ALLOW = 1;
     */
    ALLOW = 1,
    /**
     * Refuse it; `message` tells Claude why.
     *
     * @generated from enum value: BEHAVIOR_DENY = 2;
     */
    DENY = 2
}
/**
 * Describes the enum amc.v1.Behavior.
 */
export declare const BehaviorSchema: GenEnum<Behavior>;
/**
 * ActionService acts on one session per call and says what happened.
 *
 * @generated from service amc.v1.ActionService
 */
export declare const ActionService: GenService<{
    /**
     * Allows or denies the permission request `request_id` a held `PermissionRequest` hook waits on.
     *
     * @generated from rpc amc.v1.ActionService.Decide
     */
    decide: {
        methodKind: "unary";
        input: typeof DecideRequestSchema;
        output: typeof DecideResponseSchema;
    };
    /**
     * Types `text` into the session's own Zellij pane, then Enter (a new turn, or an answer at a prompt).
     *
     * @generated from rpc amc.v1.ActionService.SendText
     */
    sendText: {
        methodKind: "unary";
        input: typeof SendTextRequestSchema;
        output: typeof SendTextResponseSchema;
    };
    /**
     * Answers the session's pending question (AskUserQuestion): option numbers, or free text.
     *
     * @generated from rpc amc.v1.ActionService.Answer
     */
    answer: {
        methodKind: "unary";
        input: typeof AnswerRequestSchema;
        output: typeof AnswerResponseSchema;
    };
    /**
     * A dead, done or ended session leaves the list: its file goes to the trash.
     *
     * @generated from rpc amc.v1.ActionService.Dismiss
     */
    dismiss: {
        methodKind: "unary";
        input: typeof DismissRequestSchema;
        output: typeof DismissResponseSchema;
    };
    /**
     * Brings a dismissed session's file back from the trash.
     *
     * @generated from rpc amc.v1.ActionService.Restore
     */
    restore: {
        methodKind: "unary";
        input: typeof RestoreRequestSchema;
        output: typeof RestoreResponseSchema;
    };
    /**
     * Turns remote approval on or off for one session: while on, its PermissionRequest hooks wait for Decide even
     * when `AMC_APPROVALS_HOLD` is `never` ("I am away from this pane").
     *
     * @generated from rpc amc.v1.ActionService.SetRemoteApproval
     */
    setRemoteApproval: {
        methodKind: "unary";
        input: typeof SetRemoteApprovalRequestSchema;
        output: typeof SetRemoteApprovalResponseSchema;
    };
    /**
     * Focuses the session's own Zellij pane (for the most recently active client of that Zellij session; it switches
     * to the pane's tab). Needs a Zellij with `action focus-pane-id` (0.44.1 or newer); an older one is refused with
     * FAILED_PRECONDITION.
     *
     * @generated from rpc amc.v1.ActionService.Focus
     */
    focus: {
        methodKind: "unary";
        input: typeof FocusRequestSchema;
        output: typeof FocusResponseSchema;
    };
}>;
