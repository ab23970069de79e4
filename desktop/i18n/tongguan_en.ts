<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="zh_CN">
<context>
    <name>ActionBar</name>
    <message>
        <location filename="../../widgets/action_bar.py" line="75"/>
        <source>当前状态下没有可做的操作</source>
        <translation>No actions available in this state</translation>
    </message>
</context>
<context>
    <name>ActionForm</name>
    <message>
        <location filename="../../widgets/action_form.py" line="415"/>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../../widgets/action_form.py" line="417"/>
        <source>取消（Esc）</source>
        <translation>Cancel (Esc)</translation>
    </message>
    <message>
        <location filename="../../widgets/action_form.py" line="436"/>
        <source>提交</source>
        <translation>Submit</translation>
    </message>
    <message>
        <location filename="../../widgets/action_form.py" line="465"/>
        <source>%s（Ctrl+Enter）</source>
        <translation>%s (Ctrl+Enter)</translation>
    </message>
</context>
<context>
    <name>AlertCardDelegate</name>
    <message>
        <location filename="../../widgets/alert_card.py" line="67"/>
        <source>抓拍</source>
        <translation>Snapshot</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_card.py" line="116"/>
        <source>置信度 %s%%</source>
        <translation>Confidence %s%%</translation>
    </message>
</context>
<context>
    <name>CaseCard</name>
    <message>
        <location filename="../../widgets/case_card.py" line="237"/>
        <source>选择一个案件</source>
        <translation>Select a case</translation>
    </message>
    <message>
        <location filename="../../widgets/case_card.py" line="304"/>
        <source>处理记录</source>
        <translation>Case record</translation>
    </message>
    <message>
        <location filename="../../widgets/case_card.py" line="453"/>
        <source>正在载入处理记录…</source>
        <translation>Loading case record…</translation>
    </message>
    <message>
        <location filename="../../widgets/case_card.py" line="455"/>
        <source>暂无处理记录</source>
        <translation>No record yet</translation>
    </message>
</context>
<context>
    <name>Desk</name>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="105"/>
        <location filename="../ui/desk/alerts_page.py" line="207"/>
        <source>选择一条告警</source>
        <translation>Select an alert</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="149"/>
        <source>（%1次）</source>
        <translation> (×%1)</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="162"/>
        <source>待处理告警 %1 条</source>
        <translation>%1 pending alerts</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="163"/>
        <source>；误报：%1</source>
        <translation>; false alarms: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="179"/>
        <source>正在载入抓拍图…</source>
        <translation>Loading snapshot…</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="216"/>
        <source>摄像机：%1</source>
        <translation>Camera: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="217"/>
        <source>网格：%1 · %2</source>
        <translation>Grid: %1 · %2</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="220"/>
        <source>同一处 %1 次，最近 %2</source>
        <translation>%1 times here, last %2</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="231"/>
        <source>确认并派遣</source>
        <translation>Confirm and dispatch</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="232"/>
        <location filename="../ui/desk/alerts_page.py" line="288"/>
        <location filename="../ui/desk/alerts_page.py" line="289"/>
        <location filename="../ui/desk/texts.py" line="57"/>
        <source>误报</source>
        <translation>False alarm</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="235"/>
        <source>并入已有案件</source>
        <translation>Attach to case</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="257"/>
        <source>按检测类型默认</source>
        <translation>Default for detection type</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="263"/>
        <source>确认告警并派遣</source>
        <translation>Confirm alert and dispatch</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="267"/>
        <source>事件类别</source>
        <translation>Case category</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="275"/>
        <source>主办单位（空为只登记）</source>
        <translation>Lead unit (empty: register only)</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="278"/>
        <source>只登记，不派遣</source>
        <translation>Register only, no dispatch</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="282"/>
        <source>确认</source>
        <translation>Confirm</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="283"/>
        <source>确认后自动受理，并派遣给所选单位</source>
        <translation>Confirming accepts the case and dispatches it to the chosen unit</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="287"/>
        <source>标记为误报</source>
        <translation>Mark as false alarm</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="288"/>
        <location filename="../ui/desk/forms.py" line="42"/>
        <source>原因</source>
        <translation>Reason</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="294"/>
        <source>并入同一地点的已有案件</source>
        <translation>Attach to an open case at the same spot</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="298"/>
        <source>案件</source>
        <translation>Case</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="304"/>
        <location filename="../ui/desk/forms.py" line="34"/>
        <source>说明</source>
        <translation>Note</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="306"/>
        <source>并入</source>
        <translation>Attach</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="367"/>
        <source>告警已转为案件，但%1未执行：%2。请在“我的待办”中处理。</source>
        <translation>The alert is a case now, but %1 was not done: %2. Take it up in My to-do.</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="369"/>
        <source>连接已关闭</source>
        <translation>the connection closed</translation>
    </message>
    <message>
        <location filename="../ui/desk/progress.py" line="15"/>
        <source>正在提交…</source>
        <translation>Submitting…</translation>
    </message>
    <message>
        <location filename="../ui/desk/progress.py" line="17"/>
        <source>待发送：连接中断，恢复后自动发送</source>
        <translation>Queued: connection lost, sends once it is back</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="378"/>
        <source>已完成</source>
        <translation>Done</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="396"/>
        <source>刚刚</source>
        <translation>just now</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="398"/>
        <source>%1分钟前</source>
        <translation>%1 min ago</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="400"/>
        <source>%1小时前</source>
        <translation>%1 h ago</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="401"/>
        <source>%1天前</source>
        <translation>%1 d ago</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="129"/>
        <source>该案件已不在您的列表中</source>
        <translation>This case is no longer in your list</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="144"/>
        <source>等待上一操作的答复</source>
        <translation>Waiting for the answer to the last action</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="152"/>
        <source>案件已被他人更新，请重新选择操作</source>
        <translation>Someone else updated the case. Choose the action again</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="167"/>
        <location filename="../ui/desk/texts.py" line="49"/>
        <source>督办</source>
        <translation>Supervision</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="169"/>
        <source>会商</source>
        <translation>Consultation</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="171"/>
        <source>挂账</source>
        <translation>Long-term hold</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="173"/>
        <source>延期待批</source>
        <translation>Extension pending</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="175"/>
        <source>挂账待批</source>
        <translation>Hold pending</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="177"/>
        <source>返工%1次</source>
        <translation>Reworked %1×</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="179"/>
        <source>重办%1次</source>
        <translation>Reopened %1×</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="181"/>
        <location filename="../ui/desk/texts.py" line="27"/>
        <location filename="../ui/desk/texts.py" line="60"/>
        <source>超期</source>
        <translation>Overdue</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="184"/>
        <source>类别</source>
        <translation>Category</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="185"/>
        <source>紧急程度</source>
        <translation>Priority</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="186"/>
        <source>来源</source>
        <translation>Source</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="188"/>
        <source>地点</source>
        <translation>Location</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="203"/>
        <source>层级</source>
        <translation>Level</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="204"/>
        <source>上报时间</source>
        <translation>Reported</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="207"/>
        <source>反映人</source>
        <translation>Reporter</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="209"/>
        <location filename="../ui/desk/forms.py" line="60"/>
        <source>主办单位</source>
        <translation>Lead unit</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="213"/>
        <location filename="../ui/desk/forms.py" line="66"/>
        <source>协办单位</source>
        <translation>Assisting units</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="218"/>
        <source>结案时限</source>
        <translation>Due</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="269"/>
        <source>处理记录暂时无法载入（连接中断）</source>
        <translation>Case record unavailable for now (connection lost)</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="275"/>
        <location filename="../ui/desk/case_pane.py" line="280"/>
        <source>处理记录无法载入：%1</source>
        <translation>Case record could not be loaded: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="282"/>
        <source>仅显示最近的记录</source>
        <translation>Showing the latest entries only</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="338"/>
        <source>%1 已完成</source>
        <translation>%1 done</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="353"/>
        <source>正在核对案件的最新状态…</source>
        <translation>Checking the case&apos;s latest state…</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="61"/>
        <source>区级疑难案件</source>
        <translation>Difficult cases (district)</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="62"/>
        <location filename="../ui/desk/texts.py" line="25"/>
        <source>会商中</source>
        <translation>In consultation</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="63"/>
        <source>督办中</source>
        <translation>Under supervision</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="64"/>
        <source>待审批延期与挂账</source>
        <translation>Extensions and holds to approve</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="65"/>
        <source>今日批示</source>
        <translation>Today&apos;s instructions</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="113"/>
        <source>今日值班尚未交接</source>
        <translation>Today&apos;s duty not handed over yet</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="117"/>
        <source>%1 值班指挥长：%2 %3（%4 交班）</source>
        <translation>%1 commander on duty: %2 %3 (handover %4)</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="122"/>
        <source>值班人员：%1</source>
        <translation>On duty: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="149"/>
        <location filename="../ui/desk/duty_page.py" line="191"/>
        <source>发布批示</source>
        <translation>Issue instruction</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="150"/>
        <location filename="../ui/desk/duty_page.py" line="198"/>
        <location filename="../ui/desk/texts.py" line="59"/>
        <source>交接班</source>
        <translation>Handover</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="162"/>
        <location filename="../ui/desk/map_page.py" line="156"/>
        <source>（超期）</source>
        <translation> (overdue)</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="169"/>
        <source>意见：%1（%2）</source>
        <translation>Opinion: %1 (%2)</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="192"/>
        <source>批示内容</source>
        <translation>Instruction</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="193"/>
        <source>发布</source>
        <translation>Issue</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="194"/>
        <source>批示发往全区各中心，并显示在大屏上</source>
        <translation>The instruction goes to every centre in the district and shows on the wall</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="200"/>
        <source>接班指挥长</source>
        <translation>Incoming commander</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="201"/>
        <source>职务</source>
        <translation>Title</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="201"/>
        <source>县干指挥长</source>
        <translation>Duty commander</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="202"/>
        <source>交班说明</source>
        <translation>Handover note</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="204"/>
        <source>交班</source>
        <translation>Hand over</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="37"/>
        <source>可选：写进案件记录</source>
        <translation>Optional: goes into the case record</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="50"/>
        <source>不予受理原因</source>
        <translation>Reason for rejecting</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="53"/>
        <source>（建议）</source>
        <translation> (suggested)</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="80"/>
        <source>核查结果</source>
        <translation>Verification result</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="83"/>
        <source>通过</source>
        <translation>Passed</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="83"/>
        <source>不通过，返工</source>
        <translation>Failed, rework</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="86"/>
        <source>核查意见</source>
        <translation>Verification note</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="93"/>
        <source>满意度（1–5）</source>
        <translation>Satisfaction (1–5)</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="95"/>
        <source>1–2 分（不满意）将重新派遣并督办</source>
        <translation>A score of 1–2 (dissatisfied) re-dispatches the case under supervision</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="101"/>
        <source>延长小时数</source>
        <translation>Extra hours</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="102"/>
        <source>延期理由</source>
        <translation>Reason for extension</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="105"/>
        <source>须在时限届满前申请，由上级审批</source>
        <translation>Request before the deadline; the level above approves</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="112"/>
        <source>%1 申请：%2</source>
        <translation>Requested by %1: %2</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="119"/>
        <source>审批结果</source>
        <translation>Decision</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="122"/>
        <source>批准</source>
        <translation>Approve</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="122"/>
        <source>不批准</source>
        <translation>Refuse</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="125"/>
        <source>审批意见</source>
        <translation>Decision note</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="134"/>
        <source>挂账原因</source>
        <translation>Reason for long-term hold</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="137"/>
        <source>复查日期</source>
        <translation>Review date</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="144"/>
        <source>批准后案件计时暂停，至复查日期或解除时恢复</source>
        <translation>Once approved, the case&apos;s clock stops until the review date or release</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="148"/>
        <source>内容</source>
        <translation>Text</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="159"/>
        <source>个自然日</source>
        <translation> calendar days</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="159"/>
        <source>个工作日</source>
        <translation> working days</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="161"/>
        <source>小时（自然时间）</source>
        <translation> hours (calendar time)</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="161"/>
        <source>个工作小时</source>
        <translation> working hours</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="162"/>
        <source>处置时限：派遣后 %1%2</source>
        <translation>Time to handle: %1%2 from dispatch</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="18"/>
        <source>待受理</source>
        <translation>To accept</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="19"/>
        <source>待派遣</source>
        <translation>To dispatch</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="20"/>
        <source>处置中</source>
        <translation>Handling</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="21"/>
        <source>待核查</source>
        <translation>To verify</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="22"/>
        <source>待结案</source>
        <translation>To close</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="23"/>
        <source>待审批</source>
        <translation>To approve</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="24"/>
        <source>区级案件</source>
        <translation>District cases</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="26"/>
        <source>待督办</source>
        <translation>To supervise</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="32"/>
        <source>登记</source>
        <translation>Register</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="33"/>
        <source>受理</source>
        <translation>Accept</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="34"/>
        <source>不予受理</source>
        <translation>Reject</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="35"/>
        <source>派遣</source>
        <translation>Dispatch</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="36"/>
        <source>签收</source>
        <translation>Sign for</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="37"/>
        <source>开始处置</source>
        <translation>Start handling</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="38"/>
        <source>处置完毕</source>
        <translation>Finish handling</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="39"/>
        <source>核查</source>
        <translation>Verify</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="40"/>
        <source>结案</source>
        <translation>Close</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="41"/>
        <source>评价</source>
        <translation>Evaluate</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="42"/>
        <source>退单</source>
        <translation>Send back</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="43"/>
        <source>申请延期</source>
        <translation>Request extension</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="44"/>
        <source>延期审批</source>
        <translation>Decide extension</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="45"/>
        <source>申请挂账</source>
        <translation>Request hold</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="46"/>
        <source>挂账审批</source>
        <translation>Decide hold</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="47"/>
        <source>解除挂账</source>
        <translation>Release hold</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="48"/>
        <source>上报</source>
        <translation>Escalate</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="50"/>
        <source>发起会商</source>
        <translation>Start consultation</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="51"/>
        <source>会商意见</source>
        <translation>Consultation decision</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="52"/>
        <source>结束会商</source>
        <translation>End consultation</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="53"/>
        <source>批示</source>
        <translation>Instruct</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="54"/>
        <source>重新派遣</source>
        <translation>Re-dispatch</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="55"/>
        <source>协办反馈</source>
        <translation>Assisting report</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="56"/>
        <source>确认告警</source>
        <translation>Confirm alert</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="58"/>
        <source>并入案件</source>
        <translation>Attach to case</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="61"/>
        <source>自动上报</source>
        <translation>Auto-escalated</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="62"/>
        <source>自动督办</source>
        <translation>Auto-supervised</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="63"/>
        <source>到期解除挂账</source>
        <translation>Hold released (due)</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="67"/>
        <source>指挥长</source>
        <translation>Commander</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="68"/>
        <source>调度员</source>
        <translation>Dispatcher</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="69"/>
        <source>街道分中心</source>
        <translation>Street sub-centre</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="70"/>
        <source>社区工作站</source>
        <translation>Community workstation</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="71"/>
        <source>管理员</source>
        <translation>Admin</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="72"/>
        <source>大屏</source>
        <translation>Wall</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="135"/>
        <source>该案件已由%1%2（现为%3），操作未执行</source>
        <translation>Case already taken by %1 (%2, now %3). Action not carried out</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="141"/>
        <source>该案件状态已变为%1，操作未执行</source>
        <translation>The case is now %1. Action not carried out</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="143"/>
        <source>该案件不存在或不在您的辖区内</source>
        <translation>No such case, or it is outside your jurisdiction</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="145"/>
        <source>您的角色或辖区无权执行此操作（已记录）</source>
        <translation>Your role or jurisdiction does not allow this action (logged)</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="147"/>
        <source>按职责分离要求，此操作须由他人完成（处置人不能核查或结案，申请人不能自批）</source>
        <translation>Separation of duties: someone else must do this (the handler cannot verify or close, the requester cannot approve)</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="149"/>
        <source>填写的内容未通过检查：%1</source>
        <translation>The form did not pass the check: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="151"/>
        <source>服务暂时繁忙，操作未执行，请稍后重试</source>
        <translation>The service is busy. Action not carried out; try again shortly</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="152"/>
        <source>操作未执行：%1</source>
        <translation>Action not carried out: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="161"/>
        <source>剩 %1</source>
        <translation>%1 left</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="53"/>
        <source>点击网格查看其未结案件</source>
        <translation>Click a grid to list its open cases</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="60"/>
        <source>定位当前案件 L</source>
        <translation>Locate current case L</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="72"/>
        <source>正在载入地图…</source>
        <translation>Loading the map…</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="150"/>
        <source>%1：未结案件 %2 件</source>
        <translation>%1: %2 open cases</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="47"/>
        <source>只显示这一次，请立即交给本人；令牌等同密码</source>
        <translation>Shown this once only: hand it to the user now; the token is a password</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="54"/>
        <location filename="../ui/desk/admin_page.py" line="292"/>
        <source>用户名</source>
        <translation>User name</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="55"/>
        <location filename="../ui/desk/admin_page.py" line="295"/>
        <source>角色</source>
        <translation>Role</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="56"/>
        <source>辖区</source>
        <translation>Jurisdiction</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="57"/>
        <source>创建时间</source>
        <translation>Created</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="58"/>
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="100"/>
        <source>用户与角色</source>
        <translation>Users and roles</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="134"/>
        <location filename="../ui/desk/admin_page.py" line="419"/>
        <source>复制</source>
        <translation>Copy</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="187"/>
        <location filename="../ui/desk/admin_page.py" line="335"/>
        <source>尚未连接到调度服务</source>
        <translation>Not connected to the dispatch service yet</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="191"/>
        <source>正在载入…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="201"/>
        <source>用户列表暂时无法载入（连接中断）</source>
        <translation>The user list cannot be loaded now (connection lost)</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="204"/>
        <location filename="../ui/desk/admin_page.py" line="209"/>
        <source>用户列表无法载入：%1</source>
        <translation>The user list cannot be loaded: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="220"/>
        <source>全区</source>
        <translation>Whole district</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="226"/>
        <source>已停用</source>
        <translation>Revoked</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="226"/>
        <source>有效</source>
        <translation>Active</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="237"/>
        <source>共 %1 个用户，%2 个有效</source>
        <translation>%1 users, %2 active</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="265"/>
        <source>不能停用自己的账号</source>
        <translation>You cannot revoke your own account</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="268"/>
        <location filename="../ui/desk/admin_page.py" line="290"/>
        <source>新建用户</source>
        <translation>New user</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="269"/>
        <source>停用</source>
        <translation>Revoke</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="270"/>
        <source>刷新</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="300"/>
        <source>街道（不选为全区）</source>
        <translation>Streets (none: the whole district)</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="302"/>
        <source>社区（仅社区工作站）</source>
        <translation>Communities (community workstations only)</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="305"/>
        <source>创建</source>
        <translation>Create</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="306"/>
        <source>已有同名用户时将重新发放令牌：旧令牌立即失效，其连接被断开</source>
        <translation>A user of the same name gets a new token: the old one stops working at once and its connections are closed</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="314"/>
        <source>停用用户 · %1</source>
        <translation>Revoke user · %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="316"/>
        <source>确认停用</source>
        <translation>Revoke</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="317"/>
        <source>%1 的令牌将立即失效，已打开的连接会被断开。按 Enter 确认，Esc 取消</source>
        <translation>%1&apos;s token stops working at once and its open connections are closed. Enter confirms, Esc cancels</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="345"/>
        <source>正在创建…</source>
        <translation>Creating…</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="348"/>
        <source>正在停用…</source>
        <translation>Revoking…</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="369"/>
        <source>连接中断，不能确定是否已创建；请刷新列表核对创建时间</source>
        <translation>Connection lost: not known whether the user was created; refresh the list and check the creation time</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="372"/>
        <source>未创建：%1</source>
        <translation>Not created: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="376"/>
        <source>未收到令牌，请重试</source>
        <translation>No token received; try again</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="389"/>
        <source>连接中断，不能确定是否已停用；请刷新列表核对</source>
        <translation>Connection lost: not known whether the user was revoked; refresh the list to check</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="392"/>
        <source>未停用：%1</source>
        <translation>Not revoked: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="395"/>
        <source>已停用 %1</source>
        <translation>Revoked %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="402"/>
        <source>%1 的令牌</source>
        <translation>Token of %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="413"/>
        <source>已复制</source>
        <translation>Copied</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="427"/>
        <source>社区工作站用户的辖区是社区，不能选街道</source>
        <translation>A community workstation&apos;s jurisdiction is communities, not streets</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="429"/>
        <source>社区工作站用户须至少选择一个社区</source>
        <translation>A community workstation needs at least one community</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="431"/>
        <source>只有社区工作站用户的辖区是社区；其他角色请选街道（不选为全区）</source>
        <translation>Only community workstations have communities; for other roles choose streets (none: the whole district)</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="433"/>
        <source>街道分中心用户须至少选择一个街道</source>
        <translation>A street sub-centre user needs at least one street</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="439"/>
        <source>无权执行（已记录）：%1</source>
        <translation>Not allowed (recorded): %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="441"/>
        <source>没有这个用户</source>
        <translation>No such user</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="443"/>
        <source>服务暂时繁忙，请稍后重试</source>
        <translation>The service is busy; try again shortly</translation>
    </message>
</context>
<context>
    <name>DeskWindow</name>
    <message>
        <location filename="../ui/desk/app.py" line="139"/>
        <source>正在启动内置调度服务…</source>
        <translation>Starting the built-in dispatch service…</translation>
    </message>
    <message>
        <location filename="../ui/desk/app.py" line="145"/>
        <source>内置调度服务启动失败：%1</source>
        <translation>The built-in dispatch service failed to start: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="58"/>
        <location filename="../ui/desk/window.py" line="77"/>
        <source>通观 · 中屏管</source>
        <translation>Tongguan · Desk</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="286"/>
        <source>● 正在连接调度服务…</source>
        <translation>● Connecting to the dispatch service…</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="117"/>
        <source>我的待办 F1</source>
        <translation>My to-do F1</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="118"/>
        <source>视频告警 F2</source>
        <translation>Camera alerts F2</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="119"/>
        <source>县干指挥长 F3</source>
        <translation>Duty commander F3</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="120"/>
        <source>地图 F4</source>
        <translation>Map F4</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="243"/>
        <source>管理 F5</source>
        <translation>Admin F5</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="257"/>
        <source>调度服务正在载入今日数据，待办与超期数可能暂不准确…</source>
        <translation>The dispatch service is loading today&apos;s data; to-do and overdue counts may be off for now…</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="265"/>
        <source>全区</source>
        <translation>Whole district</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="299"/>
        <source>账号的令牌或权限已变更，请重新登录</source>
        <translation>Your token or rights changed: sign in again</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="301"/>
        <source>令牌无效或已吊销，请向管理员索取新令牌</source>
        <translation>Token invalid or revoked: ask an administrator for a new one</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="303"/>
        <source>登录被拒绝：%1</source>
        <translation>Sign-in refused: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="307"/>
        <source>● 已连接</source>
        <translation>● Connected</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="312"/>
        <source>● 调度服务重启中，第 %1 次</source>
        <translation>● Dispatch service restarting, attempt %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="316"/>
        <source>● 连接中断，正在重连…</source>
        <translation>● Disconnected, reconnecting…</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="333"/>
        <source>%1 条提交中</source>
        <translation>%1 submitting</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="335"/>
        <source>%1 条待发送</source>
        <translation>%1 queued</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="344"/>
        <source>等 %1 件</source>
        <translation> (%1 in all)</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="345"/>
        <source>新待办：%1 %2</source>
        <translation>New to-do: %1 %2</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="349"/>
        <source>通观 · 新待办</source>
        <translation>Tongguan · New to-do</translation>
    </message>
</context>
<context>
    <name>DutyPanel</name>
    <message>
        <location filename="../../widgets/duty_panel.py" line="280"/>
        <source>会商中</source>
        <translation>In consultation</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="286"/>
        <source>督办超期</source>
        <translation>Supervised, overdue</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="314"/>
        <source>今日县干指挥长</source>
        <translation>Today&apos;s duty commander</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="321"/>
        <location filename="../../widgets/duty_panel.py" line="353"/>
        <location filename="../../widgets/duty_panel.py" line="402"/>
        <location filename="../../widgets/duty_panel.py" line="464"/>
        <source>暂无</source>
        <translation>None</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="330"/>
        <source>电话</source>
        <translation>Tel.</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="344"/>
        <source>值班人员</source>
        <translation>On duty</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="371"/>
        <source>另有{0}人</source>
        <translation>+{0} more</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="410"/>
        <source>另有{0}件</source>
        <translation>+{0} more</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="456"/>
        <source>指挥长最新指示</source>
        <translation>Latest instructions</translation>
    </message>
</context>
<context>
    <name>EventQueueModel</name>
    <message>
        <location filename="../ui/models.py" line="163"/>
        <source>紧急</source>
        <translation>Priority</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="164"/>
        <source>来源</source>
        <translation>Source</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="165"/>
        <source>类别</source>
        <translation>Category</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="166"/>
        <source>网格</source>
        <translation>Grid</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="167"/>
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="168"/>
        <source>剩余时限</source>
        <translation>Left</translation>
    </message>
</context>
<context>
    <name>GridDetails</name>
    <message>
        <location filename="../../widgets/grid_details.py" line="43"/>
        <source>网格员信息暂缺</source>
        <translation>No grid worker on record</translation>
    </message>
    <message>
        <location filename="../../widgets/grid_details.py" line="44"/>
        <source>暂无在办事件</source>
        <translation>No open cases</translation>
    </message>
    <message>
        <location filename="../../widgets/grid_details.py" line="46"/>
        <source>另有 %s 件…</source>
        <translation>%s more…</translation>
    </message>
</context>
<context>
    <name>HourlyTrend</name>
    <message>
        <location filename="../../widgets/trend_chart.py" line="51"/>
        <source>今日与昨日每小时接报量</source>
        <translation>Cases received per hour, today and yesterday</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="54"/>
        <source>今日</source>
        <translation>Today</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="58"/>
        <source>昨日</source>
        <translation>Yesterday</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="89"/>
        <source>{0}时</source>
        <translation>{0}:00</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="103"/>
        <source>暂无数据</source>
        <translation>No data</translation>
    </message>
</context>
<context>
    <name>OutageBanner</name>
    <message>
        <location filename="../../widgets/wall_header.py" line="152"/>
        <source>连接中断，数据截至 %s</source>
        <translation>Connection lost. Data as of %s</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="154"/>
        <source>尚未连接到调度服务，暂无数据</source>
        <translation>Not connected to the dispatch service yet. No data</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="156"/>
        <source>&#x3000;·&#x3000;正在第 %s 次重连</source>
        <translation>  ·  Reconnecting, attempt %s</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="158"/>
        <source>（%s）</source>
        <translation> (%s)</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="158"/>
        <source>&#x3000;·&#x3000;%s</source>
        <translation>  ·  %s</translation>
    </message>
</context>
<context>
    <name>SignInDialog</name>
    <message>
        <location filename="../ui/desk/sign_in.py" line="38"/>
        <source>通观 · 登录</source>
        <translation>Tongguan · Sign in</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="44"/>
        <source>令牌文件（权限 600）</source>
        <translation>Token file (mode 600)</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="48"/>
        <source>选择…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="52"/>
        <source>或粘贴令牌</source>
        <translation>or paste the token</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="53"/>
        <source>记住令牌（仅本人可读的文件）</source>
        <translation>Remember the token (in a file only you can read)</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="56"/>
        <source>指挥长</source>
        <translation>Commander</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="57"/>
        <source>调度员</source>
        <translation>Dispatcher</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="58"/>
        <source>菱湖街道分中心</source>
        <translation>Linghu Street sub-centre</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="59"/>
        <source>社区工作站</source>
        <translation>Community workstation</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="60"/>
        <source>管理员</source>
        <translation>Administrator</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="67"/>
        <source>登录</source>
        <translation>Sign in</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="70"/>
        <source>进入本机演示</source>
        <translation>Start local demo</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="76"/>
        <source>服务器</source>
        <translation>Server</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="77"/>
        <source>令牌文件</source>
        <translation>Token file</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="78"/>
        <source>令牌</source>
        <translation>Token</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="81"/>
        <source>本机演示身份</source>
        <translation>Demo as</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="92"/>
        <source>选择令牌文件</source>
        <translation>Choose token file</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="103"/>
        <source>请给出令牌文件或粘贴令牌</source>
        <translation>Give a token file or paste the token</translation>
    </message>
</context>
<context>
    <name>StreetRanking</name>
    <message>
        <location filename="../../widgets/street_ranking.py" line="160"/>
        <source>暂无数据</source>
        <translation>No data</translation>
    </message>
</context>
<context>
    <name>Texts</name>
    <message>
        <location filename="../ui/models.py" line="400"/>
        <source>特急</source>
        <translation>Critical</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="401"/>
        <source>紧急</source>
        <translation>Urgent</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="402"/>
        <source>一般</source>
        <translation>Normal</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="403"/>
        <source>较低</source>
        <translation>Low</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="407"/>
        <source>12345</source>
        <translation>12345</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="408"/>
        <source>巡查</source>
        <translation>Patrol</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="409"/>
        <source>随手拍</source>
        <translation>Photo</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="410"/>
        <source>视频</source>
        <translation>Camera</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="411"/>
        <source>感知</source>
        <translation>Sensor</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="412"/>
        <source>交办</source>
        <translation>Assigned</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="415"/>
        <source>待受理</source>
        <translation>To accept</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="416"/>
        <source>已受理</source>
        <translation>Accepted</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="417"/>
        <source>不予受理</source>
        <translation>Rejected</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="418"/>
        <source>已派遣</source>
        <translation>Dispatched</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="419"/>
        <source>处置中</source>
        <translation>Handling</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="420"/>
        <source>已处置</source>
        <translation>Handled</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="421"/>
        <source>已核查</source>
        <translation>Verified</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="422"/>
        <source>已结案</source>
        <translation>Closed</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="423"/>
        <source>已评价</source>
        <translation>Rated</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="426"/>
        <source>网格</source>
        <translation>Grid</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="427"/>
        <source>社区</source>
        <translation>Community</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="428"/>
        <source>街道</source>
        <translation>Street</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="429"/>
        <source>区级</source>
        <translation>District</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="447"/>
        <source>%1天%2时</source>
        <translation>%1d %2h</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="451"/>
        <source>超 %s</source>
        <translation>−%s</translation>
    </message>
</context>
<context>
    <name>TodoModel</name>
    <message>
        <location filename="../ui/desk/todo_model.py" line="66"/>
        <source>紧急</source>
        <translation>Priority</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_model.py" line="67"/>
        <source>编号</source>
        <translation>No.</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_model.py" line="68"/>
        <source>类别</source>
        <translation>Category</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_model.py" line="69"/>
        <source>事项</source>
        <translation>Subject</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_model.py" line="70"/>
        <source>地点</source>
        <translation>Location</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_model.py" line="71"/>
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_model.py" line="72"/>
        <source>剩余时限</source>
        <translation>Time left</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_model.py" line="73"/>
        <source>来源</source>
        <translation>Source</translation>
    </message>
</context>
<context>
    <name>TodoPage</name>
    <message>
        <location filename="../ui/desk/todo_page.py" line="56"/>
        <source>搜索编号、地址、内容（Ctrl+F）</source>
        <translation>Search number, address, text (Ctrl+F)</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="58"/>
        <source>只看超期</source>
        <translation>Overdue only</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="59"/>
        <source>只看紧急</source>
        <translation>Urgent only</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="63"/>
        <source>按时限</source>
        <translation>By deadline</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="64"/>
        <source>按上报时间</source>
        <translation>By time reported</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="65"/>
        <source>按紧急程度</source>
        <translation>By priority</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="259"/>
        <source>全部街道</source>
        <translation>All streets</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="320"/>
        <source>%1 件</source>
        <translation>%1 cases</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="322"/>
        <source>%1 / %2 件</source>
        <translation>%1 / %2 cases</translation>
    </message>
</context>
<context>
    <name>WallHeader</name>
    <message>
        <location filename="../../widgets/wall_header.py" line="68"/>
        <source>静音</source>
        <translation>Muted</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="68"/>
        <source>声音</source>
        <translation>Sound</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="69"/>
        <source>新特急事件提示音（M 键切换）</source>
        <translation>Chime for new critical cases (M toggles)</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="88"/>
        <source>正在连接…</source>
        <translation>Connecting…</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="93"/>
        <source>连接中断</source>
        <translation>Disconnected</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="95"/>
        <source>正在载入…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="99"/>
        <source>数据 %s 秒前</source>
        <translation>Data %s s ago</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="101"/>
        <source>数据 %s 分钟前</source>
        <translation>Data %s min ago</translation>
    </message>
</context>
<context>
    <name>WallWindow</name>
    <message>
        <location filename="../ui/app.py" line="297"/>
        <source>内置调度服务启动失败：%s</source>
        <translation>The built-in dispatch service failed to start: %s</translation>
    </message>
    <message>
        <location filename="../ui/app.py" line="304"/>
        <source>正在连接调度服务…（内置调度服务启动中，首次启动需载入全区数据）</source>
        <translation>Connecting to the dispatch service… (the built-in service is starting; a first start loads the whole district)</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="79"/>
        <source>全部在办</source>
        <translation>All open</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="80"/>
        <source>待受理</source>
        <translation>To accept</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="81"/>
        <source>处置中</source>
        <translation>Handling</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="82"/>
        <source>待核查</source>
        <translation>To verify</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="106"/>
        <source>通观 · 智慧联动指挥大屏</source>
        <translation>Tongguan · Smart Linkage Command Wall</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="126"/>
        <source>大观区智慧联动中心 · 一网统管</source>
        <translation>Daguan District Smart Linkage Centre · Unified Governance</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="134"/>
        <location filename="../ui/wall.py" line="392"/>
        <source>正在连接调度服务…</source>
        <translation>Connecting to the dispatch service…</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="178"/>
        <source>全部街道</source>
        <translation>All streets</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="208"/>
        <source>暂无待处理告警</source>
        <translation>No pending alerts</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="219"/>
        <source>今日指标</source>
        <translation>Today&apos;s KPIs</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="229"/>
        <source>每小时接报量 · 今日与昨日</source>
        <translation>Cases per hour · today and yesterday</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="230"/>
        <source>街道综合得分排名 · 本月</source>
        <translation>Streets by overall score · this month</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="231"/>
        <source>网格态势</source>
        <translation>Grid overview</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="234"/>
        <source>县干指挥长</source>
        <translation>Duty commander</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="235"/>
        <source>事件队列</source>
        <translation>Case queue</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="238"/>
        <source>视频告警</source>
        <translation>Camera alerts</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="406"/>
        <source>调度服务已重启，正在恢复数据</source>
        <translation>dispatch service restarted, restoring the data</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="418"/>
        <source>调度服务重启中，第 %s 次</source>
        <translation>dispatch service restarting, attempt %s</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="420"/>
        <source>调度服务意外退出</source>
        <translation>it stopped unexpectedly</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="421"/>
        <source>调度服务无响应</source>
        <translation>it stopped answering</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="422"/>
        <source>上次重启未成功</source>
        <translation>the last restart failed</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="424"/>
        <source>：%s</source>
        <translation>: %s</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="637"/>
        <source>再按一次 Ctrl+Q 退出大屏（Ctrl+Shift+K 退出全屏）</source>
        <translation>Press Ctrl+Q again to quit the wall (Ctrl+Shift+K leaves full screen)</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="233"/>
        <source>%s 件</source>
        <translation>%s cases</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="281"/>
        <source>%s 条待处理</source>
        <translation>%s pending</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="430"/>
        <source>调度服务拒绝了本终端，请联系管理员</source>
        <translation>The dispatch service refused this terminal. Contact the administrator</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="432"/>
        <source>调度服务未响应</source>
        <translation>The dispatch service is not responding</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="434"/>
        <source>连接超时</source>
        <translation>Connection timed out</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="436"/>
        <source>连接被关闭</source>
        <translation>Connection closed</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="437"/>
        <source>网络异常</source>
        <translation>Network error</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="482"/>
        <source>%s智慧联动中心 · 一网统管</source>
        <translation>%s Smart Linkage Centre · Unified Governance</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="491"/>
        <source>全区</source>
        <translation>Whole district</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="536"/>
        <source>新特急事件</source>
        <translation>new critical case</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="536"/>
        <source>操作中</source>
        <translation>operator active</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="538"/>
        <source>（轮巡暂停：%s）</source>
        <translation> (tour paused: %s)</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="540"/>
        <source>（轮巡）</source>
        <translation> (on tour)</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="81"/>
        <source>正在载入今日数据…</source>
        <translation>Loading today&apos;s figures…</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="84"/>
        <source>今日指标 · %s</source>
        <translation>Today&apos;s KPIs · %s</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="99"/>
        <source>%s 分</source>
        <translation>%s pts</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="103"/>
        <source> · 超期 %s</source>
        <translation> · %s overdue</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="157"/>
        <location filename="../ui/panels.py" line="170"/>
        <source>环节超期</source>
        <translation>stage late</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="572"/>
        <source>网格员 %s  %s</source>
        <translation>Grid worker %s  %s</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="574"/>
        <source>网格长 %s</source>
        <translation>Grid leader %s</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="607"/>
        <source>特急</source>
        <translation>Critical</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="608"/>
        <source>紧急</source>
        <translation>Urgent</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="609"/>
        <source>一般</source>
        <translation>Normal</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="610"/>
        <source>较低</source>
        <translation>Low</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="611"/>
        <source>网格有超期</source>
        <translation>Overdue in grid</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="395"/>
        <source>工作日历缺%s年官方数据，期限按估算推算</source>
        <translation>No official %s calendar: deadlines estimated</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="398"/>
        <source>工作日历缺%s年数据，期限按周末推算</source>
        <translation>No %s calendar: deadlines count weekends only</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="407"/>
        <source>按期结案率</source>
        <translation>On-time closure</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="409"/>
        <source>平均处置时长</source>
        <translation>Avg. handling time</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="413"/>
        <source>%s 分钟</source>
        <translation>%s min</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="414"/>
        <source>%s 小时</source>
        <translation>%s h</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="404"/>
        <source>今日接报</source>
        <translation>Received today</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="405"/>
        <source>今日派遣</source>
        <translation>Dispatched today</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="406"/>
        <source>今日结案</source>
        <translation>Closed today</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="408"/>
        <source>当前超期</source>
        <translation>Overdue now</translation>
    </message>
</context>
</TS>
